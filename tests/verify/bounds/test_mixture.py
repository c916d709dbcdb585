"""The separable fractional program against brute force, and interval primitives against samples."""

from __future__ import annotations

import itertools

import torch

from circ.verify.bounds import interval as iv
from circ.verify.bounds.mixture import mixture_max, mixture_min
from circ.verify.bounds.weights import Norm


def _brute(a: torch.Tensor, s: torch.Tensor, allowed: torch.Tensor) -> float:
    p, v = a.shape
    best = float("inf")
    for choice in itertools.product(range(v), repeat=p):
        if all(allowed[j, c] for j, c in enumerate(choice)):
            w = torch.exp(torch.stack([s[j, c] for j, c in enumerate(choice)]))
            vals = torch.stack([a[j, c] for j, c in enumerate(choice)])
            best = min(best, float((w * vals).sum() / w.sum()))
    return best


def test_mixture_bounds_are_sound_and_tight() -> None:
    gen = torch.Generator().manual_seed(0)
    for _ in range(60):
        a = torch.randn(4, 3, generator=gen, dtype=torch.float64)
        s = 3 * torch.randn(4, 3, generator=gen, dtype=torch.float64)
        allowed = torch.rand(4, 3, generator=gen) < 0.7
        allowed[:, 0] = True
        low, x = mixture_min(a, s, allowed)
        high, _ = mixture_max(a, s, allowed)
        truth_low, truth_high = _brute(a, s, allowed), -_brute(-a, s, allowed)
        assert float(low) <= truth_low < float(low) + 1e-6
        assert float(high) >= truth_high > float(high) - 1e-6
        assert bool(allowed[torch.arange(4), x].all())  # the minimiser is an allowed input


def test_interval_layernorm_and_attention_contain_samples() -> None:
    gen = torch.Generator().manual_seed(1)
    d, p = 6, 5
    centre = torch.randn(d, generator=gen, dtype=torch.float64)
    radius = torch.rand(d, generator=gen, dtype=torch.float64)
    norm = Norm(
        torch.randn(d, generator=gen, dtype=torch.float64), torch.randn(d, generator=gen, dtype=torch.float64)
    )
    lo, hi = iv.layernorm((centre - radius, centre + radius), norm)
    s_c, s_r = (
        torch.randn(p, generator=gen, dtype=torch.float64),
        torch.rand(p, generator=gen, dtype=torch.float64),
    )
    v_c, v_r = (
        torch.randn(p, d, generator=gen, dtype=torch.float64),
        torch.rand(p, d, generator=gen, dtype=torch.float64),
    )
    visible = torch.tensor([True, True, True, False, True])
    weights = iv.softmax_weights((s_c - s_r, s_c + s_r), visible)
    m_lo, m_hi = iv.mix(weights, (v_c - v_r, v_c + v_r))
    for _ in range(2000):
        x = centre + radius * (2 * torch.rand(d, generator=gen, dtype=torch.float64) - 1)
        y = norm(x)
        assert bool(((lo <= y) & (y <= hi)).all())
        s = (s_c + s_r * (2 * torch.rand(p, generator=gen, dtype=torch.float64) - 1)).masked_fill(
            ~visible, -torch.inf
        )
        v = v_c + v_r * (2 * torch.rand(p, d, generator=gen, dtype=torch.float64) - 1)
        out = torch.softmax(s, 0) @ v
        assert bool(((m_lo <= out) & (out <= m_hi)).all())
