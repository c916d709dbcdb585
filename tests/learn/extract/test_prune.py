"""Pruning keeps a certified circuit right on its whole domain, and fails loudly when it cannot."""

from __future__ import annotations

import pytest
import torch

from circ.lang.errors import ConfigError
from circ.learn.extract.domain import check
from circ.learn.extract.prune import prune
from circ.learn.extract.units import size_of
from circ.learn.model import CircuitTransformer, build_model
from circ.verify.certify import certify_model


def _model(result) -> CircuitTransformer:
    model = CircuitTransformer(result.cfg)
    model.load_state_dict(result.state)
    return model.eval()


@pytest.mark.parametrize(("by", "ablation"), [("magnitude", "mean"), ("attribution", "zero")])
def test_pruned_circuit_stays_right_on_every_input(load, by: str, ablation: str) -> None:
    model, domain = load("color.add")
    result = prune(model, domain, by=by, ablation=ablation)
    pruned = _model(result)
    # the runtime's own certification, independent of extraction's check
    cert = certify_model(domain.task, pruned, weights_sha256="0" * 64)
    assert not cert.sampled and cert.n_checked == 100 and cert.accuracy == 1.0
    assert result.after.nonzero < result.before.nonzero
    assert sum(result.after.neurons) < 64  # mod-10 addition does not need all 64 neurons
    assert result.final_check.exact and result.final_check.min_margin > 0
    assert size_of(result.state, result.cfg) == result.after
    assert set(result.state) == set(model.state_dict())  # same shapes: the runtime runs it unchanged
    assert all(result.state[k].shape == v.shape for k, v in model.state_dict().items())


def test_removed_units_are_exactly_zero(load) -> None:
    model, domain = load("color.max")
    result = prune(model, domain, ablation="zero")
    dead = ~result.mask.neurons[0]
    assert dead.any()
    assert result.state["blocks.0.mlp.fc_in.weight"][dead].abs().sum() == 0
    assert result.state["blocks.0.mlp.fc_out.weight"][:, dead].abs().sum() == 0
    assert result.after.neurons[0] == int(result.mask.neurons[0].sum())


def test_an_impossible_sparsity_fails_loudly(load) -> None:
    model, domain = load("color.add")
    with pytest.raises(ConfigError) as info:
        prune(model, domain, sparsity=0.99)
    assert info.value.field == "sparsity"
    assert "out of reach" in str(info.value) and "100 inputs" in str(info.value)
    with pytest.raises(ConfigError, match="sparsity"):
        prune(model, domain, sparsity=1.0)


def test_a_reachable_sparsity_is_met(load) -> None:
    model, domain = load("bool.not")
    result = prune(model, domain, sparsity=0.5)
    assert result.after.sparsity >= 0.5
    assert check(_model(result), domain).exact


def test_a_circuit_already_wrong_is_refused(load) -> None:
    model, domain = load("color.add")
    untrained = build_model(model.cfg, seed=3).eval()
    with pytest.raises(ConfigError) as info:
        prune(untrained, domain)
    assert info.value.field == "circuit" and "wrong on" in str(info.value)


def test_min_margin_is_kept(load) -> None:
    model, domain = load("color.add")
    base = check(model, domain).min_margin
    result = prune(model, domain, min_margin=base * 0.5)
    assert result.final_check.min_margin >= base * 0.5


def test_weight_pruning_goes_further(load) -> None:
    model, domain = load("bool.and")
    structured = prune(model, domain)
    unstructured = prune(model, domain, weights=True)
    assert unstructured.after.nonzero < structured.after.nonzero
    assert check(_model(unstructured), domain).exact


def test_a_two_layer_circuit_prunes(two_layer) -> None:
    model, domain = two_layer
    result = prune(model, domain)
    assert check(_model(result), domain).exact
    assert len(result.after.neurons) == 2
    assert torch.equal(torch.tensor(result.after.neurons), result.mask.neurons.sum(1))
