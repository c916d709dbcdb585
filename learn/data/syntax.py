"""Examples printed in circ syntax: `mod_add(3, 5) = 8`, `[1, 2]` for Seq, `[[1, 2], [3, 4]]` for Grid."""

from __future__ import annotations

import numpy as np

from circ.lang.types import BoolT, GridT, ScalarT, SeqT, TupleT, Type, Value, unflatten
from circ.learn.data.task import Task


def format_value(t: Type, value: Value) -> str:
    if isinstance(t, BoolT):
        return "true" if value else "false"
    if isinstance(t, ScalarT):
        return str(value)
    if isinstance(t, SeqT):
        return "[" + ", ".join(format_value(t.elem, v) for v in value) + "]"
    if isinstance(t, GridT):
        return "[" + ", ".join("[" + ", ".join(str(c) for c in row) + "]" for row in value) + "]"
    if isinstance(t, TupleT):
        return "(" + ", ".join(format_value(it, v) for it, v in zip(t.items, value, strict=True)) + ")"
    raise TypeError(f"{t} has no values")


def format_example(task: Task, args: list[np.ndarray], out: np.ndarray, row: int) -> str:
    """Row `row` of raw argument/output arrays as one line of circ."""
    shown = [
        format_value(t, unflatten(t, a[row].tolist())) for t, a in zip(task.arg_types, args, strict=True)
    ]
    result = format_value(task.out_type, unflatten(task.out_type, out[row].tolist()))
    return f"{task.name}({', '.join(shown)}) = {result}"


def sample_lines(task: Task, n: int, seed: int = 0) -> list[str]:
    """`n` seeded random examples of `task`, one line of circ each."""
    from circ.learn.data.domain import sample_inputs

    args = sample_inputs(task, n, np.random.default_rng(seed))
    out = task(*args)
    return [format_example(task, args, out, i) for i in range(n)]
