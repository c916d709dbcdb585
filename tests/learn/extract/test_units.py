"""Removing units by zeroing weights, and mean ablation folded into biases, are the ablations they claim."""

from __future__ import annotations

import torch

from circ.learn.extract.faithfulness import ablated_units
from circ.learn.extract.units import KeepMask, apply_mask, mean_activations, size_of
from circ.learn.model import CircuitTransformer


def _with(model: CircuitTransformer, state) -> CircuitTransformer:
    out = CircuitTransformer(model.cfg)
    out.load_state_dict(state)
    return out.eval()


def _removed(cfg) -> tuple[KeepMask, list[tuple[str, int, int]]]:
    mask = KeepMask.full(cfg).without_neurons([(0, 1), (0, 5), (0, 17)]).without_heads([(0, 1)])
    dead = [("neuron", 0, 1), ("neuron", 0, 5), ("neuron", 0, 17), ("head", 0, 1)]
    return mask, dead


def test_zeroing_is_zero_ablation(load) -> None:
    model, domain = load("color.add")
    mask, dead = _removed(model.cfg)
    pruned = _with(model, apply_mask(model.state_dict(), model.cfg, mask))
    with torch.no_grad(), ablated_units(model, dead, None):
        hooked = model(domain.tokens)
    assert torch.allclose(pruned(domain.tokens), hooked, atol=1e-5)


def test_folded_means_are_mean_ablation_in_the_last_layer(load) -> None:
    model, domain = load("color.add")
    means = mean_activations(model, domain.tokens)
    mask, dead = _removed(model.cfg)
    pruned = _with(model, apply_mask(model.state_dict(), model.cfg, mask, means))
    with torch.no_grad(), ablated_units(model, dead, means):
        hooked = model(domain.tokens)
    assert torch.allclose(pruned(domain.tokens), hooked, atol=1e-4)
    # and it is not the zero ablation
    with torch.no_grad(), ablated_units(model, dead, None):
        assert not torch.allclose(model(domain.tokens), hooked, atol=1e-3)


def test_size_counts_live_units(load) -> None:
    model, _ = load("color.add")
    mask, _ = _removed(model.cfg)
    size = size_of(apply_mask(model.state_dict(), model.cfg, mask), model.cfg)
    assert size.heads == (1,) and size.neurons == (61,)
    dh, d = model.cfg.d_head, model.cfg.d_model
    before = size_of(model.state_dict(), model.cfg)
    assert before.nonzero - size.nonzero == 4 * dh * d + 3 * (d + 1 + d)
