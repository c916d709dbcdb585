"""Progress measures along training (Nanda et al. 2023, §5) and the phases they mark.

At each weight snapshot of a run (`circ train --snapshots N`): the restricted and excluded loss for
the *final* model's key frequencies (so the curves show those frequencies forming), the embedding's
Fourier Gini and the number of frequencies carrying 90% of its energy, and the weight norm.

Phases, from the curves (every evaluation) with these operational boundaries:
- memorisation: until train accuracy first reaches 99%;
- circuit formation: until validation accuracy has climbed a tenth of the way from its value at the
  end of memorisation to 100% (the start of the grokking jump);
- clean-up: until the embedding's Fourier sparsity settles (`cleanup.cleanup_step`, the rule
  `--stop-after-cleanup` stops on: Gini up by < CLEANUP_DELTA over `window` steps, val ≥ 99%).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch

from circ.learn.analyse.cleanup import GINI, cleanup_step
from circ.learn.analyse.mechanism import analyse_fourier
from circ.learn.analyse.sources import Subject, load_snapshot
from circ.learn.analyse.sparsity import gini
from circ.learn.curves import Record, first_step

PHASE_TARGET = 0.99
DEFAULT_WINDOW = 300


@dataclass(frozen=True)
class Point:
    step: int
    gini: float  # the embedding's Fourier Gini in the analysis basis (per-component norms)
    frequencies_for_90pct: int
    key_share: float  # the key frequencies' share of the embedding's non-constant energy
    weight_norm: float  # L2 norm of every parameter
    full_loss: float | None  # on the whole grid
    restricted_loss: float | None
    excluded_loss: float | None  # on the training inputs of the grid


def progress(subject: Subject, key_freqs: Sequence[int]) -> list[Point]:
    """The measures at every snapshot of `subject` (a Mod[p] run), for the given key frequencies."""
    split = subject.split()
    points = []
    for step, path in subject.snapshots:
        model = load_snapshot(path)
        a = analyse_fourier(subject.task, model, split, list(key_freqs), with_neurons=False)
        spec = a.embed[a.basis.name]
        norm = torch.sqrt(sum(p.detach().double().pow(2).sum() for p in model.parameters())).item()
        ab = a.ablation
        points.append(
            Point(
                step=step,
                gini=gini(spec.component_norms),
                frequencies_for_90pct=spec.frequencies_for(0.9),
                key_share=float(spec.shares[[k - 1 for k in key_freqs]].sum()) if key_freqs else 0.0,
                weight_norm=norm,
                full_loss=ab.full_loss if ab else None,
                restricted_loss=ab.restricted_loss if ab else None,
                excluded_loss=ab.excluded_loss if ab else None,
            )
        )
    return points


@dataclass(frozen=True)
class Phases:
    memorised: int | None  # first step at 99% train accuracy
    rising: int | None  # first step of the grokking jump
    generalised: int | None  # first step at 99% val accuracy
    cleaned: int | None  # first step at which the spectrum has settled
    last: int

    def spans(self) -> list[tuple[str, int, int]]:
        """(name, start, end) of each phase that began, in order; an unfinished one ends at `last`."""
        names = ("memorisation", "circuit formation", "clean-up")
        bounds = [0, self.memorised, self.rising, self.cleaned]
        out = []
        for i, name in enumerate(names):
            start, end = bounds[i], bounds[i + 1]
            if start is None:
                break
            out.append((name, start, end if end is not None else self.last))
            if end is None:
                break
        return out

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "spans": [list(s) for s in self.spans()]}


def phases(curves: Sequence[Record], window: int = DEFAULT_WINDOW) -> Phases:
    last = int(curves[-1]["step"]) if curves else 0
    memorised = first_step(curves, "train_acc", PHASE_TARGET)
    rising = None
    if memorised is not None:
        after = [r for r in curves if r["step"] >= memorised]
        base = after[0]["val_acc"]
        rising = first_step(after, "val_acc", base + 0.1 * (1 - base))
    generalised = first_step(curves, "val_acc", PHASE_TARGET)
    cleaned = cleanup_step(curves, PHASE_TARGET, window) if curves and GINI in curves[0] else None
    return Phases(memorised, rising, generalised, cleaned, last)


def points_json(points: Sequence[Point]) -> list[dict[str, Any]]:
    return [{k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(p).items()} for p in points]
