"""The composed side: the generated program compiled, run on every test set and verified, through
`circ.api` (batched over all rows on the catalogued circuits, the torch backend)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from circ import api
from circ.experiment.points import Point
from circ.experiment.testsets import TestSet
from circ.learn.catalog import Catalog
from circ.learn.catalog.provider import CatalogProvider


@dataclass(frozen=True)
class ComposedRun:
    right: dict[str, tuple[int, int]]  # test set → (rows right, rows)
    verdict: str  # `circ verify`'s
    run_s: float  # compiling and running every test set
    verify_s: float


def outputs(
    compiled: api.Compiled, inputs: Sequence[np.ndarray], catalog: Catalog, device: str
) -> np.ndarray:
    """The program's raw outputs `[rows, width]` for raw argument arrays (one per parameter)."""
    batch = [torch.from_numpy(np.ascontiguousarray(x)) for x in inputs]
    ran = api.run(compiled, batch, CatalogProvider(catalog, device), device=device)
    return ran.execution.output.cpu().numpy()


def run_composed(
    point: Point, path: Path, sets: Sequence[TestSet], catalog: Catalog, examples: int, device: str = "cpu"
) -> ComposedRun:
    start = time.perf_counter()
    compiled = api.compile(path)
    right = {}
    for s in sets:
        got = outputs(compiled, point.program_inputs(s.inputs), catalog, device)
        right[s.name] = (int((got == s.expected).all(axis=1).sum()), s.rows)
    run_s = time.perf_counter() - start
    start = time.perf_counter()
    report = api.verify(path, catalog, device=device, examples=examples, seed=0)
    return ComposedRun(right, report.verdict, run_s, time.perf_counter() - start)
