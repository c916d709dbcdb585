"""Examples printed in circ syntax: `mod_add(3, 5) = 8`, `[1, 2]` for Seq, `[[1, 2], [3, 4]]` for Grid."""

from __future__ import annotations

import numpy as np

from circ.lang.layout import format_value, unflatten
from circ.learn.data.task import Task


def format_example(task: Task, args: list[np.ndarray], out: np.ndarray, row: int) -> str:
    """Row `row` of raw argument/output arrays as one line of circ."""
    shown = [format_value(unflatten(t, a[row].tolist())) for t, a in zip(task.arg_types, args, strict=True)]
    result = format_value(unflatten(task.out_type, out[row].tolist()))
    return f"{task.name}({', '.join(shown)}) = {result}"


def sample_lines(task: Task, n: int, seed: int = 0) -> list[str]:
    """`n` seeded random examples of `task`, one line of circ each."""
    from circ.learn.data.domain import sample_inputs

    args = sample_inputs(task, n, np.random.default_rng(seed))
    out = task(*args)
    return [format_example(task, args, out, i) for i in range(n)]
