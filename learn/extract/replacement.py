"""The replacement model: the circuit with its MLPs swapped for transcoders.

Two ways to run it. `replaced(model, tc)` hooks the original `CircuitTransformer` so that each MLP's
output is the transcoders' reconstruction (optionally with features ablated, and with fixed error
terms added: circuit-tracer's local replacement model). `as_circuit(model, tc)` builds a plain
`CircuitTransformer` whose MLPs *are* the transcoders (a per-layer ReLU transcoder is an MLP of width
d_sae), which the runtime and the catalog take as they are. That second form exists only when it is
the same function: per layer, ReLU, or top-k on a domain where no position has more than k positive
pre-activations (then top-k keeps every positive one and equals ReLU). `runtime_form` says which.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import torch

from circ.circuit.config import ModelConfig
from circ.learn.extract.domain import Domain, DomainCheck, check
from circ.learn.extract.transcoder import Transcoders
from circ.learn.model import CircuitTransformer

FeatureMask = dict[int, torch.Tensor]  # layer → bool [d_sae] or [pos, d_sae] (aligned on last positions)


@contextmanager
def replaced(
    model: CircuitTransformer,
    tc: Transcoders,
    *,
    keep: FeatureMask | None = None,
    values: dict[int, torch.Tensor] | None = None,
    errors: dict[int, torch.Tensor] | None = None,
) -> Iterator[dict[int, torch.Tensor]]:
    """While active, `model` computes each MLP output from the transcoders. Features outside `keep`
    are set to `values` (default 0: zero ablation); `errors[layer]` ([pos, d_model] or broadcastable)
    is added to that layer's output. Yields the dict of feature activations of the last forward pass."""
    acts: dict[int, torch.Tensor] = {}

    def hook(layer: int):
        def run(_module, args, _out):
            f = tc.encode(layer, args[0])
            if keep is not None and layer in keep:
                mask = _aligned(keep[layer], f)
                fill = _aligned(values[layer], f) if values is not None and layer in values else 0.0
                f = torch.where(mask, f, fill)
            acts[layer] = f
            out = tc.decode(layer, acts)
            if errors is not None and layer in errors:
                out = out + _aligned(errors[layer], out)
            return out

        return run

    handles = [block.mlp.register_forward_hook(hook(i)) for i, block in enumerate(model.blocks)]
    try:
        yield acts
    finally:
        for handle in handles:
            handle.remove()


def _aligned(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A per-position tensor [pos, d] cut to the last positions `like` ([batch, q_pos, d]) has."""
    if t.dim() >= 2 and t.shape[-2] != like.shape[-2]:
        return t[..., t.shape[-2] - like.shape[-2] :, :]
    return t


def replacement_check(model: CircuitTransformer, tc: Transcoders, domain: Domain) -> DomainCheck:
    """Whole-domain accuracy of the replacement model (every MLP swapped at once), run through hooks."""
    with replaced(model, tc):
        return check(model, domain)


def runtime_form(tc: Transcoders, max_positive: int) -> str | None:
    """None when `as_circuit` gives the same function as the replacement; else why it cannot.
    `max_positive`: the most positive pre-activations at any position of the domain (`measure`)."""
    if tc.cfg.cross_layer:
        return (
            "a cross-layer transcoder writes into later layers' MLP outputs, past their attention; "
            "a CircuitTransformer's MLP writes only into its own layer"
        )
    if tc.cfg.architecture == "topk" and max_positive > tc.cfg.k:
        return (
            f"top-{tc.cfg.k} is not a ReLU MLP here: some position has {max_positive} positive "
            "pre-activations, so top-k drops some that ReLU would keep"
        )
    return None


def as_circuit(model: CircuitTransformer, tc: Transcoders) -> tuple[ModelConfig, dict[str, torch.Tensor]]:
    """The replacement as a plain circuit: d_mlp = d_sae, fc_in = W_encᵀ, b_enc, fc_out = W_decᵀ, b_dec.
    Call only when `runtime_form` returned None."""
    cfg = replace(model.cfg, d_mlp=tc.cfg.d_sae)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for layer in range(cfg.n_layers):
        p = f"blocks.{layer}.mlp"
        state[f"{p}.fc_in.weight"] = tc.W_enc[layer].detach().T.contiguous()
        state[f"{p}.fc_in.bias"] = tc.b_enc[layer].detach().clone()
        state[f"{p}.fc_out.weight"] = tc.W_dec[layer].detach()[:, 0].T.contiguous()
        state[f"{p}.fc_out.bias"] = tc.b_dec[layer].detach().clone()
    return cfg, state


def circuit_model(cfg: ModelConfig, state: dict[str, torch.Tensor]) -> CircuitTransformer:
    model = CircuitTransformer(cfg)
    model.load_state_dict(state)
    return model.eval()
