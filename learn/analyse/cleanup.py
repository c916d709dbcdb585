"""When a grokking run has cleaned up: the measure `circ train --stop-after-cleanup` stops on.

Grokking has three phases (Nanda et al. 2023): memorisation, circuit formation, and clean-up, in
which weight decay removes the memorising weights and leaves the Fourier circuit. Validation
accuracy reaches 100% at the *start* of clean-up, so stopping there (`target_acc`) ships a circuit
that is right but not yet sparse (mod97.add: 24 frequencies for 90% of its embedding's energy; 5
after clean-up). Clean-up shows as the embedding's Fourier spectrum getting sparser; it is over
when the sparsity levels off. So a run that has reached its target keeps training until the Gini
coefficient of its embedding's spectrum (the sparser of the token and discrete-log bases) has risen
by less than `CLEANUP_DELTA` over the last `window` steps, with validation accuracy still at target.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from circ.learn.analyse.bases import bases, modulus
from circ.learn.analyse.fourier import MAX_MODULUS, fourier_basis
from circ.learn.analyse.sparsity import gini_rows
from circ.learn.data.task import Task

CLEANUP_DELTA = 0.01  # Gini rise per window below which the spectrum counts as settled
GINI = "spectrum_gini"  # the curve record's key


class SpectrumProbe:
    """The Fourier Gini of a batch of embeddings `[N, vocab, d]` → `[N]`, cheap enough to run at every
    evaluation of a vmap ensemble (one `[n, n] @ [N, n, d]` product per basis)."""

    def __init__(self, p: int) -> None:
        self.p = p
        self._bases = [
            (torch.tensor(b.elements), torch.from_numpy(fourier_basis(b.n).copy()).float()) for b in bases(p)
        ]

    @classmethod
    def for_task(cls, task: Task) -> SpectrumProbe | None:
        p = modulus(task)  # no probe past MAX_MODULUS: its bases would not fit in memory
        return cls(p) if p is not None and p <= MAX_MODULUS else None

    @torch.no_grad()
    def __call__(self, embed: torch.Tensor) -> torch.Tensor:
        ginis = []
        for elements, f in self._bases:
            w = embed[:, elements.to(embed.device)]  # [N, n, d]
            norms = (f.to(embed.device) @ w).norm(dim=-1)  # [N, n] per-component norm
            ginis.append(gini_rows(norms))
        return torch.stack(ginis).amax(0)


def cleanup_step(records: Sequence[dict[str, float]], target: float, window: int) -> int | None:
    """The first evaluated step at which clean-up counts as done (see the module docstring), or None."""
    steps = np.array([r["step"] for r in records])
    val = np.array([r["val_acc"] for r in records])
    gini = np.array([r.get(GINI, np.nan) for r in records])
    reached = np.flatnonzero(val >= target)
    if reached.size == 0:
        return None
    start = steps[reached[0]]
    for i in range(reached[0], len(records)):
        if steps[i] < start + window or val[i] < target:
            continue
        before = int(np.searchsorted(steps, steps[i] - window, side="right")) - 1
        if gini[i] - gini[before] < CLEANUP_DELTA:
            return int(steps[i])
    return None


def cleanup_done(records: Sequence[dict[str, float]], target: float, window: int) -> bool:
    """True when the latest record is the clean-up step (the train loop asks after each evaluation)."""
    return bool(records) and cleanup_step(records, target, window) == records[-1]["step"]
