"""The experiment's task families: the affine chain's reference, and the padded folds' sampler,
which `make_split` must use (training rows are short sequences padded with background 0)."""

from __future__ import annotations

import numpy as np
import pytest

from circ.lang.errors import ConfigError
from circ.learn.data import get_task, make_split
from circ.learn.data.chains import multipliers
from circ.learn.data.tokens import split_args


def test_affine_chain_is_the_composed_affine_maps() -> None:
    task = get_task("mod_affine_chain", p=97, d=3)
    rng = np.random.default_rng(0)
    x, y1, y2, y3 = (rng.integers(0, 97, 200) for _ in range(4))
    a1, a2, a3 = multipliers(97, 3)
    want = (a3 * ((a2 * ((a1 * x + y1) % 97) + y2) % 97) + y3) % 97
    assert np.array_equal(task(x, y1, y2, y3).ravel(), want)
    assert task.domain_size == 97**4
    assert all(a % 97 for a in multipliers(97, 16))  # no step forgets its input


def test_affine_chain_rejects_bad_depth() -> None:
    with pytest.raises(ConfigError, match="d"):
        get_task("mod_affine_chain", p=97, d=0)


@pytest.mark.parametrize("family", ["seq_max_tail", "seq_sum_tail"])
def test_split_trains_on_padded_short_sequences(family: str) -> None:
    task = get_task(family, n=12, live=3)
    split = make_split(task, 0.5, 0, 400)
    (xs,) = split_args(task.interface, split.train_x.numpy())
    assert xs.shape == (200, 12)
    assert not xs[:, :9].any()  # only the last 3 cells are ever set in training
    assert xs[:, 9:].any()
    ref = xs.max(axis=1) if family == "seq_max_tail" else xs.sum(axis=1) % 10
    assert np.array_equal(task(xs).ravel(), ref)


def test_max_tail_sampler_spreads_the_answers() -> None:
    """Uniform cells would make the max of 8 almost always 9; the capped draw keeps every answer common."""
    task = get_task("seq_max_tail", n=8, live=8)
    (xs,) = task.sampler(5000, np.random.default_rng(1))
    counts = np.bincount(task(xs).ravel(), minlength=10)
    assert counts.min() > 200
