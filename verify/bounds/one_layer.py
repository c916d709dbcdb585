"""Logit-margin lower bounds for a one-layer circuit without LayerNorm: exact attention, then a
linear (CROWN) relaxation of the MLP's ReLUs.

At an output position the residual after the layer is `e + W_o z + W_2 relu(W_1 (e + W_o z) + b_1)
+ b_2`, where z is the heads' mixture output and e the fixed `=` residual. Every pre-activation is
linear in z, so its extremes over a region are exact per head (`mixture_min`) and only the sum over
heads is relaxed (each head minimises on its own). The margin (correct − other logit) is then bounded
below by a linear function of z, backwards through the ReLUs as CROWN does (Zhang et al. 2018;
auto_LiRPA): an unstable neuron whose margin weight is negative is bounded above by the chord
through (l, 0) and (u, u); one with positive weight below by α·pre, with α ∈ [0, 1] the CROWN
choice (1 when u > −l). That linear function of z is again minimised exactly per head. α can then
be raised by supergradient steps: the bound is concave in α, so every step's bound is sound and
the best is kept (α-CROWN, Xu et al. 2021).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from circ.verify.bounds.attention import HeadTables
from circ.verify.bounds.mixture import mixture_max, mixture_min
from circ.verify.bounds.weights import Weights

ALPHA_STEPS = 12


@dataclass(frozen=True)
class MarginBound:
    lower: torch.Tensor  # [R, C] lower bound on logit[target] − logit[c]; +inf at c = target
    tokens: torch.Tensor  # [R, C, H, P] each head's minimising tokens: candidate counterexamples


Extremum = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def _per_head(
    fn: Extremum, tables: HeadTables, directions: torch.Tensor, allowed: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Σ_h fn(z_h · direction_h) over a region. directions `[..., H, d_head]`, allowed `[R, P, V]`
    with `...` = `[R, ...]`; returns (`[...]`, tokens `[..., H, P]`)."""
    h = tables.scores.shape[0]
    total: torch.Tensor | float = 0.0
    tokens = []
    extra = directions.dim() - 3  # dims between R and H
    mask = allowed.view(allowed.shape[0], *([1] * extra), *allowed.shape[1:])
    for i in range(h):
        a = torch.einsum("pvd,...d->...pv", tables.values[i], directions[..., i, :])
        bound, x = fn(a, tables.scores[i], mask)
        total = total + bound
        tokens.append(x)
    return total, torch.stack(tokens, dim=-2)


def preactivation_bounds(
    w: Weights, tables: HeadTables, allowed: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower and upper bounds `[R, d_mlp]` on the MLP's pre-activations over each region."""
    layer = w.layers[0]
    g = layer.w1 @ layer.wo  # [K, d]: pre = c0 + g z
    c0 = layer.w1 @ tables.resid + layer.b1
    h, dh = w.cfg.n_heads, w.cfg.d_head
    directions = g.view(1, -1, h, dh).expand(allowed.shape[0], -1, h, dh)
    low, _ = _per_head(mixture_min, tables, directions, allowed)
    high, _ = _per_head(mixture_max, tables, directions, allowed)
    return c0 + low, c0 + high


def margin_bounds(
    w: Weights, tables: HeadTables, allowed: torch.Tensor, targets: torch.Tensor, alpha_steps: int = 0
) -> MarginBound:
    """allowed `[R, P, V]` key masks, targets `[R]` correct output tokens."""
    layer = w.layers[0]
    h, dh = w.cfg.n_heads, w.cfg.d_head
    n_regions, n_classes = targets.shape[0], w.unembed.shape[0]
    low, high = preactivation_bounds(w, tables, allowed)  # [R, K]
    g = layer.w1 @ layer.wo
    c0 = layer.w1 @ tables.resid + layer.b1
    u = w.unembed[targets][:, None, :] - w.unembed[None, :, :]  # [R, C, d]
    lam = u @ layer.w2  # [R, C, K]: the margin's weight on each ReLU output
    low, high = low[:, None, :], high[:, None, :]
    unstable = (low < 0) & (high > 0)
    chord = torch.where(unstable, high / (high - low).clamp(min=1e-300), torch.zeros((), dtype=low.dtype))
    alpha = (high > -low).to(low.dtype).expand_as(lam).clone()
    fixed = u @ (tables.resid + layer.b2)  # [R, C]
    best = torch.full((n_regions, n_classes), -torch.inf, dtype=low.dtype)
    best_tokens = torch.zeros(n_regions, n_classes, h, allowed.shape[1], dtype=torch.long)
    for step in range(alpha_steps + 1):
        beta = torch.where(
            low >= 0, lam, torch.where(unstable, torch.where(lam >= 0, lam * alpha, lam * chord), 0.0)
        )
        const = (
            fixed + (beta * c0).sum(-1) - torch.where(unstable & (lam < 0), lam * chord * low, 0.0).sum(-1)
        )
        direction = beta @ g + u @ layer.wo  # [R, C, d]
        value, tokens = _per_head(mixture_min, tables, direction.view(n_regions, n_classes, h, dh), allowed)
        bound = const + value
        better = bound > best
        best = torch.where(better, bound, best)
        best_tokens = torch.where(better[..., None, None], tokens, best_tokens)
        if step == alpha_steps:
            break
        # supergradient in α: λ_k · pre_k at the minimiser (heads' minimisers combined)
        z = _mixture_at(tables, tokens)  # [R, C, d]
        pre = c0 + z @ g.T
        grad = torch.where(unstable & (lam >= 0), lam * pre, 0.0)
        alpha = (alpha + grad / (1e-12 + grad.abs().amax(-1, keepdim=True)) * 0.5 / (1 + step)).clamp(0, 1)
    best = best.scatter(1, targets[:, None], torch.inf)
    return MarginBound(best, best_tokens)


def _mixture_at(tables: HeadTables, tokens: torch.Tensor) -> torch.Tensor:
    """The heads' outputs z `[..., d]` when head h's keys hold `tokens[..., h, :]`."""
    out = []
    for i in range(tables.scores.shape[0]):
        x = tokens[..., i, :]  # [..., P]
        pos = torch.arange(x.shape[-1])
        s = tables.scores[i][pos, x]  # [..., P]
        weights = torch.softmax(s, dim=-1)
        out.append((weights[..., None] * tables.values[i][pos, x]).sum(-2))
    return torch.cat(out, dim=-1)
