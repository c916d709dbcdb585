"""Named input distributions: seeded, of the stated shape and content, supports listed exactly."""

from __future__ import annotations

import numpy as np
import pytest

from circ.lang.errors import ConfigError
from circ.learn.data import get_task
from circ.learn.data.distributions import (
    DISTRIBUTIONS,
    MIXTURES,
    names_for,
    sample,
    sample_mixture,
    support,
    support_size,
)
from circ.learn.data.split import make_split

GRID = get_task("grid_rot90", h=5, w=5)
SEQ = get_task("seq_sort", n=6)


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_seeded_and_in_range(name: str) -> None:
    a = sample(GRID, name, 500, np.random.default_rng(3))[0]
    b = sample(GRID, name, 500, np.random.default_rng(3))[0]
    c = sample(GRID, name, 500, np.random.default_rng(4))[0]
    assert a.shape == (500, 25) and a.dtype == np.int64
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.min() >= 0 and a.max() <= 9


@pytest.mark.parametrize("k", range(1, 9))
def test_sparse_has_exactly_k_coloured_cells_on_background_0(k: int) -> None:
    x = sample(GRID, f"sparse{k}", 2000, np.random.default_rng(0))[0]
    assert ((x != 0).sum(1) == k).all()
    assert set(np.unique(x[x != 0])) == set(range(1, 10))


def test_low_entropy_shapes() -> None:
    rng = np.random.default_rng(1)
    const = sample(GRID, "constant", 300, rng)[0]
    assert (const == const[:, :1]).all() and len(np.unique(const[:, 0])) == 10
    odd = sample(GRID, "one_odd", 2000, rng)[0]
    background = np.array([np.bincount(r, minlength=10).argmax() for r in odd])
    assert ((odd != background[:, None]).sum(1) == 1).all()
    for name in ("two_colour", "pattern"):
        x = sample(GRID, name, 2000, rng)[0]
        assert max(len(np.unique(r)) for r in x) == 2


@pytest.mark.parametrize("name", ["constant", "one_odd", "sparse1", "sparse2", "pattern"])
def test_small_supports_are_listed_whole_and_cover_the_samples(name: str) -> None:
    rows = support(GRID, name)[0]
    assert len(np.unique(rows, axis=0)) == rows.shape[0]
    if name != "pattern":  # pattern's size counts parameter combinations, some giving one grid
        assert rows.shape[0] == support_size(name, (5, 5))
    listed = {r.tobytes() for r in rows}
    drawn = sample(GRID, name, 3000, np.random.default_rng(2))[0]
    assert all(r.tobytes() in listed for r in drawn)
    assert support(GRID, "sparse3") is None and support(GRID, "uniform") is None


def test_sequences_get_the_distributions_that_fit() -> None:
    assert "sparse6" in names_for(SEQ) and "sparse7" not in names_for(SEQ)
    with pytest.raises(ConfigError, match="sparse7 needs at least 7 cells"):
        sample(SEQ, "sparse7", 3, np.random.default_rng(0))
    x = sample_mixture(SEQ, "arc", 5000, np.random.default_rng(0))[0]
    assert x.shape == (5000, 6)
    assert (x == x[:, :1]).all(1).sum() > 100  # constants (all 0, all 9: max/min's misses) are in it


def test_mixture_split_is_seeded_and_mixes_low_entropy_grids() -> None:
    a = make_split(GRID, 0.8, 0, n_samples=4000, mixture="arc")
    b = make_split(GRID, 0.8, 0, n_samples=4000, mixture="arc")
    assert np.array_equal(a.train_x, b.train_x)
    cells = a.train_x[:, :25].numpy()
    share_sparse = ((cells != 0).sum(1) <= 8).mean()
    assert 0.25 < share_sparse < 0.6  # 30% sparse plus some constant/one-odd on 0
    with pytest.raises(ConfigError, match="mixture"):
        sample_mixture(GRID, "nope", 10, np.random.default_rng(0))
    assert set(MIXTURES["arc"]) <= set(DISTRIBUTIONS)
    assert abs(sum(MIXTURES["arc"].values()) - 1) < 1e-9
