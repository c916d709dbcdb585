"""Interval arithmetic for the parts of a circuit whose inputs are no longer one token per position:
linear maps, ReLU MLPs, LayerNorm and softmax attention over boxes. Sound, and loose (boxes forget
how coordinates move together); the exact first-layer analysis comes before it.
"""

from __future__ import annotations

import math

import torch

from circ.verify.bounds.weights import LN_EPS, Norm

Box = tuple[torch.Tensor, torch.Tensor]  # (low, high), same shape
SLACK = 1e-9  # relative float64 rounding allowance per operation


def _widen(low: torch.Tensor, high: torch.Tensor) -> Box:
    pad = SLACK * (1 + torch.maximum(low.abs(), high.abs()))
    return low - pad, high + pad


def linear(box: Box, weight: torch.Tensor, bias: torch.Tensor | None = None) -> Box:
    """x ↦ x Wᵀ + b over a box `[..., in]`."""
    low, high = box
    mid, rad = (low + high) / 2, (high - low) / 2
    centre = mid @ weight.T + (0 if bias is None else bias)
    spread = rad @ weight.abs().T
    return _widen(centre - spread, centre + spread)


def relu(box: Box) -> Box:
    return box[0].clamp(min=0), box[1].clamp(min=0)


def add(a: Box, b: Box) -> Box:
    return _widen(a[0] + b[0], a[1] + b[1])


def union(a: Box, b: Box) -> Box:
    return torch.minimum(a[0], b[0]), torch.maximum(a[1], b[1])


def layernorm(box: Box, norm: Norm) -> Box:
    """(x − mean) / sqrt(var + eps) · γ + β over a box: the centred value from the box exactly per
    coordinate, the variance between the per-coordinate extremes of its square, and every normalised
    coordinate within ±sqrt(d) (Σ (x−mean)² = d·var)."""
    low, high = box
    d = low.shape[-1]
    lo_sum, hi_sum = low.sum(-1, keepdim=True), high.sum(-1, keepdim=True)
    c_lo = low * (1 - 1 / d) - (hi_sum - high) / d
    c_hi = high * (1 - 1 / d) - (lo_sum - low) / d
    sq_lo = torch.where((c_lo <= 0) & (c_hi >= 0), 0.0, torch.minimum(c_lo.abs(), c_hi.abs()) ** 2)
    sq_hi = torch.maximum(c_lo.abs(), c_hi.abs()) ** 2
    r_hi = 1 / torch.sqrt(sq_lo.mean(-1, keepdim=True) + LN_EPS)  # 1/std is largest at the least variance
    r_lo = 1 / torch.sqrt(sq_hi.mean(-1, keepdim=True) + LN_EPS)
    y_lo = torch.minimum(c_lo * r_lo, c_lo * r_hi)
    y_hi = torch.maximum(c_hi * r_lo, c_hi * r_hi)
    cap = math.sqrt(d)
    y_lo, y_hi = y_lo.clamp(-cap, cap), y_hi.clamp(-cap, cap)
    g = norm.weight
    out_lo = torch.minimum(y_lo * g, y_hi * g) + norm.bias
    out_hi = torch.maximum(y_lo * g, y_hi * g) + norm.bias
    return _widen(out_lo, out_hi)


def dot(a: Box, b: Box) -> Box:
    """Σ over the last axis of a·b for boxes a, b (broadcastable)."""
    products = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]]
    low = torch.stack(products).amin(0).sum(-1)
    high = torch.stack(products).amax(0).sum(-1)
    return _widen(low, high)


def softmax_weights(scores: Box, visible: torch.Tensor) -> Box:
    """Bounds on softmax weights over the last axis from score bounds; `visible` masks keys."""
    low = scores[0].masked_fill(~visible, -torch.inf)
    high = scores[1].masked_fill(~visible, -torch.inf)
    top = high.amax(-1, keepdim=True)
    e_lo, e_hi = torch.exp(low - top), torch.exp(high - top)
    s_lo, s_hi = e_lo.sum(-1, keepdim=True), e_hi.sum(-1, keepdim=True)
    w_lo = e_lo / (e_lo + (s_hi - e_hi)).clamp(min=1e-300)
    w_hi = e_hi / (e_hi + (s_lo - e_lo)).clamp(min=1e-300)
    w_lo, w_hi = _widen(w_lo, w_hi)
    return w_lo.clamp(min=0).masked_fill(~visible, 0), w_hi.clamp(max=1).masked_fill(~visible, 0)


def _convex_min(values: torch.Tensor, w_lo: torch.Tensor, w_hi: torch.Tensor) -> torch.Tensor:
    """min Σ_j w_j v_j over w_lo ≤ w ≤ w_hi, Σ w = 1 (greedy: the smallest values take the spare
    weight first). All `[..., P]`; returns `[...]`."""
    order = torch.argsort(values, dim=-1)
    v = torch.gather(values, -1, order)
    cap = torch.gather(w_hi - w_lo, -1, order)
    spare = (1 - w_lo.sum(-1, keepdim=True)).clamp(min=0)
    before = torch.cumsum(cap, -1) - cap
    give = torch.minimum((spare - before).clamp(min=0), cap)
    return (w_lo * values).sum(-1) + (give * v).sum(-1)


def mix(weights: Box, values: Box) -> Box:
    """Bounds on Σ_j w_j v_j: weights `[..., P]`, values `[..., P, d]` → `[..., d]`."""
    w_lo, w_hi = (t[..., None, :] for t in weights)
    lo_v, hi_v = values[0].transpose(-1, -2), values[1].transpose(-1, -2)  # [..., d, P]
    v_lo = torch.where(w_hi > 0, lo_v, 0.0)  # invisible keys carry no weight
    v_hi = torch.where(w_hi > 0, hi_v, 0.0)
    low = _convex_min(v_lo, w_lo.expand_as(v_lo), w_hi.expand_as(v_lo))
    high = -_convex_min(-v_hi, w_lo.expand_as(v_hi), w_hi.expand_as(v_hi))
    return _widen(low, high)
