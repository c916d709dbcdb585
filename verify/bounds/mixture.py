"""The exact lower bound of a softmax mixture whose positions choose their tokens independently.

With a fixed query, a key position's attention score depends only on its own token, so a head's
output along any direction `a` is a ratio of sums, one term per position j with token x_j:

    min over x of  Σ_j w_j(x_j) a_j(x_j) / Σ_j w_j(x_j),   w = exp(score) > 0, x_j ∈ allowed_j

a separable fractional program. For a trial value t, `F(t) = Σ_j min_v w_j(v)(a_j(v) − t)` is
computed position by position, and `F(t) ≥ 0` exactly when every ratio is ≥ t. Dinkelbach's
iteration (t ← ratio at the minimiser of F(t)) reaches the minimum in a few steps, at a concrete
input. The bound returned does not trust convergence: it is `t + min(F(t), 0) / min Σ_j w_j`, which
holds for any t, less a float64 rounding allowance.
"""

from __future__ import annotations

import torch

MAX_ITERATIONS = 60
ROUNDING = 1e-9  # relative allowance for float64 rounding in the exps and sums (~1e-13 is the real size)


def mixture_min(
    values: torch.Tensor, log_weights: torch.Tensor, allowed: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """values, log_weights, allowed: broadcastable `[..., P, V]` (float64, float64, bool; every
    position needs at least one allowed token). Returns (a sound lower bound `[...]` on the minimum
    ratio, the minimising tokens `[..., P]`)."""
    shape = torch.broadcast_shapes(values.shape, log_weights.shape, allowed.shape)
    a = values.expand(shape)
    allowed = allowed.expand(shape)
    log_w = log_weights.expand(shape).masked_fill(~allowed, float("-inf"))
    w = torch.exp(log_w - log_w.amax(dim=(-2, -1), keepdim=True))  # ratios are scale-free
    inf = torch.tensor(float("inf"), dtype=a.dtype)
    x = torch.where(allowed, a, inf).argmin(-1)  # start: each position's smallest value
    t = _ratio(a, w, x)
    for _ in range(MAX_ITERATIONS):
        x = torch.where(allowed, w * (a - t[..., None, None]), inf).argmin(-1)
        t_new = _ratio(a, w, x)
        if not bool((t_new < t - 1e-15 * (1 + t.abs())).any()):
            break
        t = torch.minimum(t, t_new)
    slack = torch.where(allowed, w * (a - t[..., None, None]), inf).amin(-1).sum(-1)  # F(t)
    d_min = torch.where(allowed, w, inf).amin(-1).sum(-1)
    scale = 1 + torch.where(allowed, a.abs(), torch.zeros((), dtype=a.dtype)).amax(dim=(-2, -1))
    return t + slack.clamp(max=0) / d_min - ROUNDING * scale, x


def mixture_max(
    values: torch.Tensor, log_weights: torch.Tensor, allowed: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """A sound upper bound on the maximum ratio, and the maximising tokens."""
    low, x = mixture_min(-values, log_weights, allowed)
    return -low, x


def _ratio(a: torch.Tensor, w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    wa = torch.gather(w * a, -1, x[..., None]).squeeze(-1).sum(-1)
    return wa / torch.gather(w, -1, x[..., None]).squeeze(-1).sum(-1)
