"""Sequence tasks over `Seq[Color, n]` (the tracr / RASP benchmark list, vectorised)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from circ.lang.types import BOOL, COLOR, IntT, SeqT, Type
from circ.learn.data.task import Family, Task, check_int

DEFAULT_N = 5  # 10⁵ inputs: small enough to enumerate and split by fraction


def _family(
    name: str,
    doc: str,
    fn: Callable[[np.ndarray], np.ndarray],
    out: Callable[[int], Type] = lambda n: SeqT(COLOR, n),
) -> Family:
    def build(n: int = DEFAULT_N) -> Task:
        n = check_int("n", n, 1, 64)
        return Task(name, (("n", n),), (SeqT(COLOR, n),), out(n), fn, doc)

    return Family(name, "sequence", build, (("n", DEFAULT_N),), doc)


def _shift(x: np.ndarray, right: bool) -> np.ndarray:
    """Shift by one, filling with 0 (ARC's background colour)."""
    out = np.zeros_like(x)
    if right:
        out[:, 1:] = x[:, :-1]
    else:
        out[:, :-1] = x[:, 1:]
    return out


def _histogram(x: np.ndarray) -> np.ndarray:
    """For each position, how many times its element occurs in the sequence (RASP's `hist`)."""
    return (x[:, :, None] == x[:, None, :]).sum(axis=2)


FAMILIES = (
    _family("seq_reverse", "the sequence reversed", lambda x: x[:, ::-1]),
    _family("seq_sort", "sorted ascending", lambda x: np.sort(x, axis=1)),
    _family("seq_sort_desc", "sorted descending", lambda x: np.sort(x, axis=1)[:, ::-1]),
    _family("seq_cumsum", "prefix sums mod 10", lambda x: np.cumsum(x, axis=1) % 10),
    _family(
        "seq_histogram",
        "count of each element's value in the sequence",
        _histogram,
        lambda n: SeqT(IntT(1, n), n),
    ),
    _family("seq_parity", "whether the sum is odd", lambda x: x.sum(axis=1) % 2, lambda n: BOOL),
    _family("seq_succ", "each element + 1 mod 10", lambda x: (x + 1) % 10),
    _family("seq_pred", "each element − 1 mod 10", lambda x: (x - 1) % 10),
    _family("seq_shift_right", "shifted right by one, 0 filled in", lambda x: _shift(x, True)),
    _family("seq_shift_left", "shifted left by one, 0 filled in", lambda x: _shift(x, False)),
    _family("seq_rotate_right", "rotated right by one", lambda x: np.roll(x, 1, axis=1)),
    _family("seq_rotate_left", "rotated left by one", lambda x: np.roll(x, -1, axis=1)),
    _family("seq_max", "the largest element", lambda x: x.max(axis=1), lambda n: COLOR),
    _family("seq_min", "the smallest element", lambda x: x.min(axis=1), lambda n: COLOR),
    _family("seq_sum", "the sum mod 10", lambda x: x.sum(axis=1) % 10, lambda n: COLOR),
)
