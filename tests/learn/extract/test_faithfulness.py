"""Faithfulness curves run from the empty circuit (0) to the whole model (1); MIB's areas are areas."""

from __future__ import annotations

import pytest

from circ.learn.extract.faithfulness import Curve, unit_curve
from circ.learn.extract.prune import prune
from circ.learn.extract.prune_circuit import unit_order
from circ.learn.extract.units import mean_activations


def test_areas_of_known_curves() -> None:
    flat = Curve("zero", [0.0, 0.5, 1.0], [1.0, 1.0, 1.0], [1, 1, 1], [0, 0, 0], 1.0, 0.0, 1, False)
    assert flat.cpr == pytest.approx(1.0) and flat.cmd == pytest.approx(0.0)
    ramp = Curve("zero", [0.0, 1.0], [0.0, 1.0], [0, 1], [0, 1], 1.0, 0.0, 1, False)
    assert ramp.cpr == pytest.approx(0.5) and ramp.cmd == pytest.approx(0.5)


@pytest.mark.parametrize("ablation", ["zero", "mean"])
def test_a_pruned_circuit_is_exact_at_its_own_size(load, ablation: str) -> None:
    model, domain = load("color.max")
    result = prune(model, domain, ablation=ablation)
    order = unit_order(result)
    kept = len(result.mask.live_heads()) + len(result.mask.live_neurons())
    assert len(order) == model.cfg.n_heads + model.cfg.d_mlp
    means = result.means if result.means is not None else mean_activations(model, domain.tokens)
    curve = unit_curve(model, domain, order, ablation, means, mark=kept / len(order))
    assert curve.faithfulness[0] == pytest.approx(0.0) and curve.faithfulness[-1] == pytest.approx(1.0)
    assert curve.accuracy[-1] == 1.0
    at = curve.fractions.index(round(kept / len(order), 6))
    assert curve.accuracy[at] == 1.0  # the pruned circuit itself: right on every input
    assert 0 < curve.cpr <= 1.5 and curve.cmd >= 0
