"""Enumerating or sampling a task's inputs, vectorised.

The input space is the product of every argument's scalar leaves, so an index `i < domain_size` is a
mixed-radix number whose digits (most significant first, as `itertools.product` orders them) are the
leaves' values. Enumeration is `arange` + digit extraction; sampling draws each leaf uniformly.
"""

from __future__ import annotations

import numpy as np

from circ.lang.types import parts
from circ.learn.data.task import Task

MAX_ENUMERATE = 1 << 22  # ~4M inputs: beyond this a domain is sampled, not listed


def _leaves(task: Task) -> tuple[np.ndarray, np.ndarray]:
    leaves = [leaf for t in task.arg_types for leaf in parts(t)]
    return (
        np.array([leaf.size for leaf in leaves], dtype=np.int64),
        np.array([leaf.low for leaf in leaves], dtype=np.int64),
    )


def _split_args(task: Task, flat: np.ndarray) -> list[np.ndarray]:
    out, at = [], 0
    for t in task.arg_types:
        k = len(parts(t))
        out.append(flat[:, at : at + k])
        at += k
    return out


def _keep_valid(task: Task, flat: np.ndarray) -> np.ndarray:
    return flat if task.valid is None else flat[task.valid(*_split_args(task, flat))]


def enumerate_inputs(task: Task) -> list[np.ndarray]:
    """Every valid input, in domain order, as raw argument arrays."""
    if task.domain_size > MAX_ENUMERATE:
        raise ValueError(f"{task.key} has {task.domain_size} inputs, too many to enumerate; sample it")
    sizes, lo = _leaves(task)
    index = np.arange(task.domain_size, dtype=np.int64)
    digits = np.empty((index.size, sizes.size), dtype=np.int64)
    for j in range(sizes.size - 1, -1, -1):  # a loop over leaves (a handful), not over examples
        index, digits[:, j] = np.divmod(index, sizes[j])
    return _split_args(task, _keep_valid(task, digits + lo))


def sample_inputs(task: Task, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`n` valid inputs drawn uniformly (with replacement) from the leaves' ranges."""
    sizes, lo = _leaves(task)
    flat = _keep_valid(task, rng.integers(0, sizes, size=(n, sizes.size)) + lo)
    while flat.shape[0] < n:  # rejection is rare (e.g. b = 0 in a / b): top up until there are n
        more = _keep_valid(task, rng.integers(0, sizes, size=(n, sizes.size)) + lo)
        flat = np.concatenate([flat, more])
    return _split_args(task, flat[:n])
