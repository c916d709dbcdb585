"""The structural builtins, defined once for every stage that meets them.

Every builtin but `select` only moves values: each leaf of its result (`circ.lang.layout` order) is
one fixed leaf of one argument, so a builtin *is* its `selection` — a tuple of (argument, leaf) pairs.
Constant folding evaluates it on constants, the execution loop slices tensor columns with it, the
Triton code generator renames registers with it, and verification picks Z3 terms with it: one
definition, so what is proved is what runs. `select` (`if c then a else b`) is the one builtin that
looks at a value: leaf by leaf, `a` where the condition's single leaf is true, else `b`.

A new structural builtin is one entry in `BUILTINS` (compiler/nodes.py), one case in `selection`,
and one line in `lower` to build it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from itertools import accumulate
from typing import Any, TypeVar

from circ.compiler import nodes as N
from circ.lang import types as T

Leaf = tuple[int, int]  # (argument position, leaf index within that argument)
X = TypeVar("X")

SELECT = "select"


def selection(attrs: Mapping[str, Any], arg_types: Sequence[T.Type]) -> tuple[Leaf, ...]:
    """Where each leaf of a (non-`select`) builtin's result comes from."""
    name = attrs[N.BUILTIN]
    if name in ("tuple", "seq", "grid"):  # concatenation of the arguments
        return tuple((a, j) for a, t in enumerate(arg_types) for j in range(T.width(t)))
    (base,) = arg_types
    if name == "proj":
        assert isinstance(base, T.TupleT)
        k = attrs[N.INDEX]
        start = _offsets(base)[k]
        return _run(start, _offsets(base)[k + 1] - start)
    if name == "index":
        index = attrs[N.INDEX]
        if isinstance(base, T.SeqT):
            w = T.width(base.elem)
            return _run(index[0] * w, w)
        assert isinstance(base, T.GridT)
        if len(index) == 2:
            return _run(index[0] * base.w + index[1], 1)
        return _run(index[0] * base.w, base.w)  # a whole row
    raise AssertionError(f"{name} is not a selection builtin")


@lru_cache(maxsize=256)  # bounded: a long-lived process (the REPL, the LSP) sees many types
def _offsets(t: T.TupleT) -> tuple[int, ...]:
    """Each item's first leaf, then the width: the k projections of a k-way batched node would
    otherwise re-sum the items before each one (O(k²); 6 s at k = 8,192, issue 19)."""
    return tuple(accumulate((T.width(item) for item in t.items), initial=0))


def _run(start: int, n: int) -> tuple[Leaf, ...]:
    return tuple((0, j) for j in range(start, start + n))


def pick(leaves: Sequence[tuple[Leaf, ...]] | tuple[Leaf, ...], args: Sequence[Sequence[X]]) -> list[X]:
    """Apply a selection to the arguments' leaves (any leaf objects: ints, register names, Z3 terms)."""
    return [args[a][j] for a, j in leaves]


def select_leaves(cond: X, then: Sequence[X], orelse: Sequence[X], where: Callable[[X, X, X], X]) -> list[X]:
    """`if cond then … else …` leaf by leaf, with the stage's own `where(cond, a, b)`."""
    return [where(cond, a, b) for a, b in zip(then, orelse, strict=True)]


def runs(leaves: Sequence[Leaf]) -> list[tuple[int, int, int]]:
    """A selection as contiguous column ranges `(argument, start, stop)`, for slicing tensors."""
    out: list[tuple[int, int, int]] = []
    for a, j in leaves:
        if out and out[-1][0] == a and out[-1][2] == j:
            out[-1] = (a, out[-1][1], j + 1)
        else:
            out.append((a, j, j + 1))
    return out
