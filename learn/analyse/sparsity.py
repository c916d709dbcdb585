"""How concentrated a spectrum is: the Gini coefficient (Nanda et al. 2023 track it over training).

0 means every component carries the same weight, 1 − 1/n that one component carries everything. A
grokked embedding is sparse in the Fourier basis, so its Gini rises through circuit formation and
clean-up and then levels off: `circ train --stop-after-cleanup` stops on that levelling.
"""

from __future__ import annotations

import numpy as np
import torch


def gini(values: np.ndarray) -> float:
    """The Gini coefficient of non-negative `values` (0 for an all-zero vector)."""
    x = np.sort(np.abs(np.asarray(values, dtype=np.float64)).ravel())
    n, total = x.size, x.sum()
    if n == 0 or total == 0:
        return 0.0
    return float(2 * np.sum(np.arange(1, n + 1) * x) / (n * total) - (n + 1) / n)


def gini_rows(values: torch.Tensor) -> torch.Tensor:
    """Gini of each row of non-negative `values` `[N, n]` → `[N]` (batched, for a vmap ensemble)."""
    x = values.abs().sort(dim=-1).values
    n = x.shape[-1]
    ranks = torch.arange(1, n + 1, dtype=x.dtype, device=x.device)
    total = x.sum(-1).clamp_min(torch.finfo(x.dtype).tiny)
    return 2 * (x * ranks).sum(-1) / (n * total) - (n + 1) / n
