"""Which input cells each output token of a task reads: what the prover branches on first.

The prover needs the correct token on a whole region of inputs. A region fixes some cells to one
value each; if output o reads only those cells, its correct token is the same on the whole region.
Reading less than everything is a claim about the reference function, so it comes with a reason:

- `full_dependency` claims nothing (every output reads every cell); the prover then only trusts a
  target after evaluating the reference on every combination of the region's values, which is
  sound for any task and affordable once branching has made the region small.
- `structural_dependency` knows the families whose reference is a pure index operation (rotations,
  mirrors, transposes, rolls, reversal; shifts with a constant fill) or a cellwise map (recolour,
  successor, predecessor) — true by their definitions in `circ.learn.data.grids` / `.sequences`,
  where the op moves or maps cells without looking at the others. An index op's permutation is read
  off by feeding it distinct out-of-range ids (100 + cell), which such an op carries through
  unchanged. The claim is then re-checked by perturbation on samples from every named distribution
  (a check, not the proof: the proof is the op's definition).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from circ.lang.types import parts
from circ.learn.data.distributions import names_for, sample
from circ.learn.data.task import Task

INDEX_OPS = frozenset(
    {
        "grid_rot90",
        "grid_rot180",
        "grid_rot270",
        "grid_hmirror",
        "grid_vmirror",
        "grid_dmirror",
        "grid_cmirror",
        "grid_transpose",
        "grid_shift_down",
        "grid_shift_up",
        "grid_shift_right",
        "grid_shift_left",
        "seq_reverse",
        "seq_rotate_left",
        "seq_rotate_right",
        "seq_shift_left",
        "seq_shift_right",
    }
)
CELLWISE = frozenset({"grid_recolor", "seq_succ", "seq_pred"})
PROBE_ID = 100  # an id no colour or small integer cell takes


class DependencyError(Exception):
    """A claimed dependency that a perturbation check contradicts."""


@dataclass(frozen=True)
class Dependency:
    cells: tuple[tuple[int, ...], ...]  # per output token, the input cells (flat leaf indices) it reads
    justification: str


def n_cells(task: Task) -> int:
    return sum(len(parts(t)) for t in task.arg_types)


def full_dependency(task: Task) -> Dependency:
    every = tuple(range(n_cells(task)))
    return Dependency(
        tuple(every for _ in range(task.interface.n_out)), "none claimed: every output reads every cell"
    )


def structural_dependency(task: Task, *, check: int = 2000, seed: int = 12) -> Dependency:
    """The dependency of an index-op or cellwise family (else `full_dependency`), checked."""
    if task.name in INDEX_OPS and len(task.arg_types) == 1:
        ids = PROBE_ID + np.arange(n_cells(task), dtype=np.int64)[None]
        out = task(ids)[0]
        cells = tuple((int(v) - PROBE_ID,) if v >= PROBE_ID else () for v in out)
        why = f"{task.name} is an index op: each output copies the cell its probe id names (or is constant)"
    elif task.name in CELLWISE and len(task.arg_types) == 1:
        cells = tuple((o,) for o in range(task.interface.n_out))
        why = f"{task.name} is a cellwise map: output o is a function of cell o"
    else:
        return full_dependency(task)
    dep = Dependency(cells, why)
    check_dependency(task, dep, n=check, seed=seed)
    return Dependency(cells, f"{why}; re-checked by perturbation on {check} inputs per distribution")


def check_dependency(task: Task, dep: Dependency, *, n: int, seed: int) -> None:
    """Redraw every cell an output does not read; its reference value must not move."""
    rng = np.random.default_rng(seed)
    for name in names_for(task):
        x = sample(task, name, n, rng)[0]
        y = task(x)
        for o, cells in enumerate(dep.cells):
            other = np.setdiff1d(np.arange(x.shape[1]), cells)
            moved = x.copy()
            moved[:, other] = rng.integers(0, 10, size=(n, other.size))
            changed = task(moved)[:, o] != y[:, o]
            if changed.any():
                raise DependencyError(
                    f"{task.key}: output {o} changed when cells outside {cells} changed ({name} input)"
                )
