"""Restricted and excluded loss (Nanda et al. 2023, §5.1), for circuits that compute a group operation.

On the grid of inputs (i, j) ∈ Z_n² (grid.py), a circuit computing c = i ± j reads its answer from
logits that depend on the inputs through cos(w_k(i ± j)) and sin(w_k(i ± j)), w_k = 2πk/n, for its
key frequencies k. Take the logits as a matrix L `[n², out_vocab]` and project its input dimension on
those 2·|K| unit directions over the grid, P_K L = Σ_u u (uᵀ L):

- restricted loss: the cross-entropy of P_K L + mean(L) (the per-output constant: the paper's
  "bias correction"), over the whole grid: how well the key frequencies alone do the task;
- excluded loss: the cross-entropy of L − P_K L, on the training inputs (the paper measures it on
  the training data): how well the model does without them, i.e. by memorisation.

This follows the released code (`get_component_cos_xpy`/`_sin_xpy` and `test_logits(...,
bias_correction=True)`). The unembedding is linear and the projection acts on the input dimension,
so projecting the logits equals projecting the final residual stream (MLP and attention out) first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from circ.learn.analyse.grid import Grid


def sum_directions(n: int, freqs: Sequence[int], sign: int) -> torch.Tensor:
    """`[2·|freqs|, n²]` orthonormal directions cos/sin(w_k(i + sign·j)) over the flattened grid
    (one direction for the Nyquist frequency n/2, whose sine vanishes)."""
    i, j = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    phase = (i + sign * j).reshape(-1).double() * (2 * math.pi / n)
    rows = []
    for k in freqs:
        rows.append(torch.cos(k * phase))
        if 2 * k != n:
            rows.append(torch.sin(k * phase))
    if not rows:
        return torch.zeros(0, n * n, dtype=torch.float64)
    u = torch.stack(rows)
    return u / u.norm(dim=1, keepdim=True)


@dataclass(frozen=True)
class Ablation:
    full_loss: float  # the model's own logits, whole grid
    restricted_loss: float  # key frequencies + constant only, whole grid
    restricted_acc: float
    excluded_loss: float  # key frequencies removed, on `excluded_on` inputs
    excluded_acc: float
    excluded_on: str  # "train" or "grid"
    chance_loss: float  # log(out_vocab)


def ablate(
    logits: torch.Tensor,
    grid: Grid,
    freqs: Sequence[int],
    sign: int,
    train_mask: torch.Tensor | None = None,
) -> Ablation:
    """Restricted and excluded loss of grid `logits` `[n², V]` for key `freqs`; `train_mask` `[n²]`
    picks the training inputs for the excluded loss (None: the whole grid, said in `excluded_on`)."""
    n = grid.basis.n
    u = sum_directions(n, freqs, sign)  # [2K, n²]
    projected = u.T @ (u @ logits)  # [n², V]
    restricted = projected + logits.mean(0, keepdim=True)
    excluded = logits - projected
    y = grid.labels
    on = train_mask if train_mask is not None else torch.ones(y.shape[0], dtype=torch.bool)

    def ce(z: torch.Tensor, mask: torch.Tensor | None = None) -> float:
        return F.cross_entropy(z[mask], y[mask]).item() if mask is not None else F.cross_entropy(z, y).item()

    def acc(z: torch.Tensor, mask: torch.Tensor | None = None) -> float:
        hit = z.argmax(-1) == y
        return (hit[mask] if mask is not None else hit).double().mean().item()

    return Ablation(
        full_loss=ce(logits),
        restricted_loss=ce(restricted),
        restricted_acc=acc(restricted),
        excluded_loss=ce(excluded, on),
        excluded_acc=acc(excluded, on),
        excluded_on="train" if train_mask is not None else "grid",
        chance_loss=math.log(logits.shape[1]),
    )
