"""How a value of a circ type is laid out as scalar leaves, and back.

One layout serves every stage: Python values (`3`, `true`, `[1, 2]`, `[[1, 2], [3, 4]]`, `(1, true)`)
flatten to their leaves in token order; runtime values are `[rows, leaves]` tensors of those leaves;
a Triton kernel names one register per leaf; Z3 values are the same structure with a Z3 term per leaf.
`structure` rebuilds the nesting from any leaves, so all of them share it.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from circ.lang import types as T

Value = Any  # int | bool | tuple | list (a Seq) | list[list[int]] (a Grid)


def flatten(t: T.Type, value: Value) -> list[int]:
    """A Python value of type `t` as its scalar leaves (raw values, not yet tokens)."""
    return [int(leaf) for leaf in leaves(t, value)]


def leaves(t: T.Type, value: Any) -> list[Any]:
    """The leaves of a structured value (Python or symbolic), in token order, unconverted."""
    if isinstance(t, T.ScalarT):
        return [value]
    if isinstance(t, T.SeqT):
        return list(value) if isinstance(t.elem, T.ScalarT) else [x for v in value for x in leaves(t.elem, v)]
    if isinstance(t, T.GridT):
        return [c for row in value for c in row]
    if isinstance(t, T.TupleT):
        return [x for item_t, item in zip(t.items, value, strict=True) for x in leaves(item_t, item)]
    raise TypeError(f"{t} has no scalar leaves")


def structure(t: T.Type, flat: Sequence[Any], scalar: Callable[[T.ScalarT, Any], Any] | None = None) -> Any:
    """Leaves back into `t`'s nesting (lists for Seq, rows for Grid, tuples), each leaf passed through
    `scalar(leaf_type, leaf)` when given."""
    at = 0

    def build(t: T.Type) -> Any:
        nonlocal at
        if isinstance(t, T.ScalarT):
            leaf = flat[at]
            at += 1
            return scalar(t, leaf) if scalar else leaf
        if isinstance(t, T.SeqT):
            return [build(t.elem) for _ in range(t.n)]
        if isinstance(t, T.GridT):
            return [[build(T.COLOR) for _ in range(t.w)] for _ in range(t.h)]
        if isinstance(t, T.TupleT):
            return tuple(build(item) for item in t.items)
        raise TypeError(f"{t} has no scalar leaves")

    value = build(t)
    if at != len(flat):
        raise ValueError(f"{len(flat) - at} values left over decoding {t}")
    return value


def _scalar(t: T.ScalarT, leaf: Any) -> int | bool:
    return bool(leaf) if isinstance(t, T.BoolT) else int(leaf)


def unflatten(t: T.Type, flat: Sequence[int]) -> Value:
    """Inverse of `flatten`: Bool leaves become `bool`, the rest `int`."""
    return structure(t, flat, _scalar)


def contains(t: T.Type, value: Value) -> bool:
    """Whether a Python value is a member of `t` (shape and ranges; a Bool is not a number)."""
    try:
        if isinstance(t, T.BoolT):
            return isinstance(value, bool)
        if isinstance(t, T.ScalarT):
            return isinstance(value, int) and not isinstance(value, bool) and t.low <= value <= t.high
        if isinstance(t, T.SeqT | T.GridT | T.TupleT):
            kinds = items(t)
            sized = isinstance(value, list | tuple) and len(value) == len(kinds)
            return sized and all(map(contains, kinds, value))
    except TypeError:
        return False
    return False


@functools.cache
def member(t: T.Type) -> Callable[[Value], bool]:
    """`contains` for one type, made once: a Seq (or a Grid's rows) of exact in-range ints, every JSON
    row of one, is accepted by builtins alone; anything else gets `contains`' answer (checking was
    40% of reading a row of --inputs; issue 19)."""
    kinds = items(t) if isinstance(t, T.SeqT | T.GridT) else ()
    if not kinds or isinstance(kinds[0], T.BoolT | T.TupleT):
        return functools.partial(contains, t)
    n, inner = len(kinds), kinds[0]
    if isinstance(inner, T.ScalarT):
        low, high = inner.low, inner.high

        def numbers(v: Value) -> bool:
            if type(v) is list and len(v) == n and all(type(x) is int for x in v):
                return not n or (low <= min(v) and max(v) <= high)
            return contains(t, v)

        return numbers
    rows = member(inner)
    return lambda v: (type(v) is list and len(v) == n and all(map(rows, v))) or contains(t, v)


def items(t: T.SeqT | T.GridT | T.TupleT) -> tuple[T.Type, ...]:
    """The types of a structured value's items: a Seq's elements, a Grid's rows, a tuple's parts."""
    if isinstance(t, T.GridT):
        return (_row(t.w),) * t.h
    return (t.elem,) * t.n if isinstance(t, T.SeqT) else t.items


@functools.cache
def _row(w: int) -> T.SeqT:  # made once: a dataclass built per check was a third of a Grid's
    return T.SeqT(T.COLOR, w)


def values(t: T.Type) -> Iterator[Value]:
    """Every value of `t`, in token order (small domains only: the caller checks `domain_size`)."""
    ranges = [range(leaf.low, leaf.high + 1) for leaf in T.parts(t)]
    for flat in itertools.product(*ranges):
        yield unflatten(t, flat)


def format_value(value: Value) -> str:
    """A value in circ syntax (`true`, `[1, 2]`, `(3, [[0]])`): Seq and Grid are lists, tuples tuples.
    Untyped, so it can also show a user's ill-typed input in an error message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)
