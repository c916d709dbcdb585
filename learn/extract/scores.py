"""How much each head, neuron and weight matters: the order in which pruning tries to remove them.

- `magnitude`: a head's ‖W_O^h W_V^h‖_F (the most its OV circuit can write per unit of input), a
  neuron's ‖fc_in row, bias‖ · ‖fc_out column‖, a weight's |w|.
- `attribution`: attribution patching (Nanda 2023; Syed et al. 2023), the first-order estimate of
  what zero-ablating a unit does to the answer's log-odds, |Σ act · ∂metric/∂act| per input, averaged
  over inputs; for a weight, |w · ∂metric/∂w| summed over inputs. The metric is the correct logit
  minus the logsumexp of the others (summed over output positions): unlike the probability it does
  not saturate on confidently right answers, which pruning must keep right too.

Scores only order the candidates; every removal is then checked on the whole domain.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from circ.circuit.config import ModelConfig
from circ.learn.extract.domain import BATCH, Domain
from circ.learn.extract.units import KeepMask, State, apply_mask, prunable_weights
from circ.learn.model import CircuitTransformer

METHODS = ("magnitude", "attribution")
ATTRIBUTION_ROWS = 4096  # rows scored by attribution (a seeded sample of larger domains)


@dataclass(frozen=True, eq=False)
class Scores:
    heads: torch.Tensor  # [n_layers, n_heads]
    neurons: torch.Tensor  # [n_layers, d_mlp]
    weights: dict[str, torch.Tensor] | None = None  # per prunable weight matrix


def log_odds(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Correct logit − logsumexp(other logits), summed over output positions: [B]."""
    correct = logits.gather(-1, targets[..., None])[..., 0]
    others = logits.scatter(-1, targets[..., None], float("-inf")).logsumexp(-1)
    return (correct - others).sum(-1)


def magnitude_scores(state: State, cfg: ModelConfig) -> Scores:
    heads = torch.zeros(cfg.n_layers, cfg.n_heads)
    neurons = torch.zeros(cfg.n_layers, cfg.d_mlp)
    dh = cfg.d_head
    for layer in range(cfg.n_layers):
        p = f"blocks.{layer}"
        v, o = state[f"{p}.attn.v.weight"], state[f"{p}.attn.o.weight"]
        for h in range(cfg.n_heads):
            rows = slice(h * dh, (h + 1) * dh)
            heads[layer, h] = torch.linalg.matrix_norm(o[:, rows] @ v[rows])
        w_in = torch.cat([state[f"{p}.mlp.fc_in.weight"], state[f"{p}.mlp.fc_in.bias"][:, None]], 1)
        neurons[layer] = w_in.norm(dim=1) * state[f"{p}.mlp.fc_out.weight"].norm(dim=0)
    weights = {n: state[n].abs() for n in prunable_weights(cfg)}
    return Scores(heads, neurons, weights)


def attribution_scores(
    state: State, cfg: ModelConfig, domain: Domain, mask: KeepMask | None = None
) -> Scores:
    """Attribution patching on (a sample of) `domain`, for the model with `mask` applied."""
    model = CircuitTransformer(cfg)
    model.load_state_dict(apply_mask(state, cfg, mask) if mask is not None else state)
    rows = domain.sample(ATTRIBUTION_ROWS)
    heads = torch.zeros(cfg.n_layers, cfg.n_heads)
    neurons = torch.zeros(cfg.n_layers, cfg.d_mlp)
    grads = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    z_seen: dict[int, torch.Tensor] = {}
    post_seen: dict[int, torch.Tensor] = {}

    def keep_z(layer: int):  # the heads' concatenated outputs, before W_O: [batch, q_pos, d_model]
        def hook(_module, args):
            z = args[0]
            z.retain_grad()
            z_seen[layer] = z

        return hook

    def keep_post(layer: int):
        def hook(_module, _args, out):
            out.retain_grad()
            post_seen[layer] = out

        return hook

    handles = []
    for layer, block in enumerate(model.blocks):
        handles.append(block.attn.o.register_forward_pre_hook(keep_z(layer)))
        handles.append(block.mlp.hook_post.register_forward_hook(keep_post(layer)))
    try:
        for start in range(0, rows.size, BATCH):
            model.zero_grad()
            with torch.enable_grad():
                logits = model(rows.tokens[start : start + BATCH])
                log_odds(logits, rows.targets[start : start + BATCH]).sum().backward()
            for layer in range(cfg.n_layers):
                z = z_seen[layer]
                z = z.detach() * z.grad
                heads[layer] += z.reshape(*z.shape[:2], cfg.n_heads, cfg.d_head).sum((1, 3)).abs().sum(0)
                post = post_seen[layer]
                neurons[layer] += (post.detach() * post.grad).sum(1).abs().sum(0)
            for n, p in model.named_parameters():
                grads[n] += p.grad
    finally:
        for handle in handles:
            handle.remove()
    params = dict(model.named_parameters())
    weights = {n: (params[n].detach() * grads[n]).abs() for n in prunable_weights(cfg)}
    return Scores(heads / rows.size, neurons / rows.size, weights)
