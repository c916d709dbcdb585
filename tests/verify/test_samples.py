"""Per-distribution evaluation: Clopper–Pearson against closed forms, real error counts, exhaustive
small supports, seeds apart from training and training inputs dropped."""

from __future__ import annotations

import numpy as np
import pytest

from circ.lang.errors import ConfigError
from circ.learn.data.distributions import sample
from circ.learn.model import CircuitTransformer
from circ.verify.samples import clopper_pearson_upper, evaluate_distributions


def test_clopper_pearson_matches_closed_forms() -> None:
    assert clopper_pearson_upper(0, 10**6) == pytest.approx(1 - 0.05 ** (1 / 10**6), rel=1e-9)  # ≈ 3.0e-6
    assert clopper_pearson_upper(0, 10**6) == pytest.approx(2.9957e-6, rel=1e-4)
    assert clopper_pearson_upper(9, 10) == pytest.approx(0.95 ** (1 / 10), rel=1e-9)
    assert clopper_pearson_upper(1, 10) == pytest.approx(0.3942, abs=1e-4)  # textbook table value
    assert clopper_pearson_upper(10, 10) == 1.0
    with pytest.raises(ValueError):
        clopper_pearson_upper(3, 2)


def test_counts_errors_per_distribution(reverse3) -> None:
    task, model = reverse3
    results = {
        r.distribution: r for r in evaluate_distributions(task, model, seed=1, training_inputs=None, n=2000)
    }
    assert "sparse4" not in results  # three cells
    assert all(r.n_wrong == 0 for r in results.values())
    assert results["constant"].exhaustive and results["constant"].n_checked == 10
    assert results["sparse1"].exhaustive and results["sparse1"].n_checked == 27
    assert not results["uniform"].exhaustive and results["uniform"].upper_bound == pytest.approx(
        clopper_pearson_upper(0, 2000)
    )

    broken = CircuitTransformer(model.cfg)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["unembed.weight"][[0, 5]] = state["unembed.weight"][[5, 0]]
    broken.load_state_dict(state)
    bad = {
        r.distribution: r
        for r in evaluate_distributions(task, broken.eval(), seed=1, training_inputs=None, n=2000)
    }
    assert bad["sparse1"].n_wrong == 27  # every sparse cell sequence has 0s, which now read as 5
    assert bad["uniform"].n_wrong > 0 and bad["uniform"].upper_bound > bad["uniform"].error_rate
    assert bad["uniform"].counterexamples


def test_sampled_rows_avoid_training_inputs_and_seed(reverse3) -> None:
    task, model = reverse3
    with pytest.raises(ConfigError, match="seed"):
        evaluate_distributions(task, model, seed=0, training_inputs=None, training_seed=0)
    drawn = sample(task, "uniform", 500, np.random.default_rng(1 * 1000 + 0))[0]  # the uniform stream
    (res,) = evaluate_distributions(task, model, seed=1, training_inputs=drawn, names=["uniform"], n=500)
    assert res.in_training == 500 and res.n_checked == 0 and res.upper_bound == 1.0
