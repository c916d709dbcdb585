"""Restricted and excluded loss (Nanda et al. 2023): exact on constructed logits, and on a shipped
circuit whose key frequencies are known, restricted ≈ full loss and excluded above chance."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from circ.learn.analyse.bases import token_basis
from circ.learn.analyse.grid import input_grid
from circ.learn.analyse.mechanism import analyse_fourier, train_mask
from circ.learn.analyse.neurons import neuron_clusters
from circ.learn.analyse.restricted_loss import ablate
from circ.learn.data import get_task, make_split


def trig_logits(p: int, freqs: list[int], sign: int = 1, scale: float = 3.0) -> torch.Tensor:
    """The Fourier multiplication algorithm's logits: Σ_k cos(w_k(i + sign·j − c))."""
    i, j, c = torch.meshgrid(torch.arange(p), torch.arange(p), torch.arange(p), indexing="ij")
    phase = (i + sign * j - c).double() * 2 * math.pi / p
    return scale * sum(torch.cos(k * phase) for k in freqs).reshape(p * p, p)


@pytest.mark.parametrize(("task", "sign"), [("mod_add", 1), ("mod_sub", -1)])
def test_key_frequencies_explain_constructed_logits_exactly(task: str, sign: int) -> None:
    p, keys = 23, [3, 8]
    grid = input_grid(get_task(task, p=p), token_basis(p))
    logits = trig_logits(p, keys, sign)
    ab = ablate(logits, grid, keys, sign)
    assert ab.restricted_loss == pytest.approx(ab.full_loss, abs=1e-9)
    assert ab.restricted_acc == 1.0
    assert ab.excluded_loss == pytest.approx(math.log(p), abs=1e-9)  # nothing left: uniform logits
    wrong = ablate(logits, grid, [5], sign)  # a frequency the logits do not use
    assert wrong.restricted_loss == pytest.approx(math.log(p), abs=1e-9)
    assert wrong.excluded_loss == pytest.approx(ab.full_loss, abs=1e-9)


def test_the_excluded_loss_is_measured_on_the_training_inputs() -> None:
    p = 23
    task = get_task("mod_add", p=p)
    grid = input_grid(task, token_basis(p))
    split = make_split(task, 0.3, 0)
    mask = train_mask(grid, split)
    assert int(mask.sum()) == split.train_x.shape[0]
    train_pairs = {(int(a), int(b)) for a, b in split.train_x[:, :2]}
    marked = {(int(a), int(b)) for a, b, m in zip(grid.args[0], grid.args[1], mask, strict=True) if m}
    assert marked == train_pairs
    ab = ablate(trig_logits(p, [2]), grid, [2], 1, mask)
    assert ab.excluded_on == "train"


def test_shipped_subtraction_is_carried_by_its_key_frequencies(stdlib_catalog) -> None:
    """mod97.sub (seed 2, grokked and cleaned up): key frequencies 19 23 25 36 45 47 (measured)."""
    model = stdlib_catalog.load_model("mod97.sub")
    a = analyse_fourier(get_task("mod_sub", p=97), model)
    assert sorted(a.key_frequencies) == [19, 23, 25, 36, 45, 47]
    ab = a.ablation
    assert ab.full_loss < 0.1
    assert ab.restricted_acc == 1.0
    assert ab.restricted_loss < 2 * ab.full_loss  # measured 0.016 vs 0.010 (cleaned-up weights)
    assert ab.excluded_loss > ab.chance_loss  # measured 8.5 vs log 97 = 4.57
    assert ab.excluded_acc < 0.05
    assert a.neurons.single().mean() > 0.7  # measured 93%
    assert set(a.neurons.counts()) == set(a.key_frequencies)
    assert a.headline().startswith("Fourier subtraction, key frequencies 19 23 25 36 45 47")


def test_shipped_division_is_fourier_in_the_discrete_log_basis(stdlib_catalog) -> None:
    a = analyse_fourier(get_task("mod_div", p=97), stdlib_catalog.load_model("mod97.div"))
    assert a.basis.name == "dlog" and a.basis.generator == 5
    assert a.embed["dlog"].frequencies_for(0.9) < 10 < a.embed["token"].frequencies_for(0.9)
    assert a.ablation.restricted_acc == 1.0
    assert "discrete-log order (generator 5)" in a.headline()


def test_neuron_clusters_find_each_neurons_frequency() -> None:
    p = 23
    grid = input_grid(get_task("mod_add", p=p), token_basis(p))
    a, b = (torch.from_numpy(x).double() * 2 * math.pi / p for x in grid.args)
    acts = torch.stack(
        [
            torch.cos(3 * a) * torch.cos(3 * b),  # one frequency, a product term
            torch.cos(5 * (a + b)) + 0.1 * torch.cos(2 * a),  # mostly 5
            torch.cos(4 * a) + torch.cos(9 * b),  # two frequencies, half each
            torch.ones_like(a),  # constant: dead on the grid
        ],
        dim=1,
    )
    nc = neuron_clusters(acts, grid)
    assert list(nc.frequency[:3]) == [3, 5, 4] or list(nc.frequency[:3]) == [3, 5, 9]
    assert nc.best_share[0] == pytest.approx(1.0)
    assert nc.best_share[1] > 0.98
    assert nc.best_share[2] == pytest.approx(0.5)
    assert list(nc.dead) == [False, False, False, True]
    assert list(nc.single()) == [True, True, False, False]
    assert np.allclose(nc.shares[:3].sum(1), 1.0)


def test_fourier_analysis_of_a_huge_modulus_is_refused_not_allocated() -> None:
    from circ.lang.errors import ConfigError
    from circ.learn.analyse.fourier import fourier_basis

    with pytest.raises(ConfigError, match="p ≤ 4,096"):
        fourier_basis(100_000)  # 80 GB if built
