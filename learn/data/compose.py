"""Composed tasks `f∘g∘…`, for composed-vs-monolithic experiments at any depth.

`compose([f, g])` is `x ↦ f(g(x))` (the first task is applied last), named `compose(f,g)`; its depth is
the number of primitive tasks inside. Every task must be unary and each inner output type must equal
the next outer argument type.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from circ.lang.errors import ConfigError
from circ.learn.data.task import Task


def compose(tasks: Sequence[Task]) -> Task:
    if not tasks:
        raise ConfigError("compose", "needs at least one task")
    for t in tasks:
        if len(t.arg_types) != 1:
            n = len(t.arg_types)
            raise ConfigError("compose", f"{t.name} takes {n} arguments; only unary tasks compose")
    for outer, inner in itertools.pairwise(tasks):
        if inner.out_type != outer.arg_types[0]:
            raise ConfigError(
                "compose",
                f"{inner.name} returns {inner.out_type} but {outer.name} takes {outer.arg_types[0]}",
            )
    if len(tasks) == 1:
        return tasks[0]
    chain = tuple(reversed(tasks))  # innermost first

    def fn(x: np.ndarray) -> np.ndarray:
        for t in chain:
            x = t(x)
        return x

    params = tuple(sorted({kv for t in tasks for kv in t.params}))
    parts = tuple(p for t in tasks for p in (t.parts or (t.key,)))
    docs = " ∘ ".join(t.name for t in tasks)
    return Task(
        f"compose({','.join(t.name for t in tasks)})",
        params,
        chain[0].arg_types,
        tasks[0].out_type,
        fn,
        docs,
        chain[0].valid,
        sum(t.depth for t in tasks),
        parts,
    )


def random_chain(pool: Sequence[Task], depth: int, seed: int) -> Task:
    """A depth-`depth` composition drawn (seeded, with replacement) from type-preserving tasks in `pool`."""
    usable = [t for t in pool if len(t.arg_types) == 1 and t.arg_types[0] == t.out_type]
    if not usable:
        raise ConfigError("pool", "no task in it maps a type to itself")
    if depth < 1:
        raise ConfigError("depth", f"must be >= 1, got {depth}")
    kinds = {t.out_type for t in usable}
    if len(kinds) > 1:
        raise ConfigError("pool", f"mixes types {sorted(map(str, kinds))}; chains need one type")
    picks = np.random.default_rng(seed).integers(0, len(usable), size=depth)
    return compose([usable[i] for i in picks])
