"""circ's finite types and their token encodings.

Every value type is finite so that a circuit can tokenise it (DESIGN §3): a type knows how many tokens
it encodes to, over which vocabulary, and how big its domain is. Scalars encode to one token
(`value - low`); `Seq`, `Grid` and tuples concatenate their parts' tokens in row-major order.
`Integer` is the unbounded mathematical integer of the contract sub-language only (it reaches Z3,
never a circuit).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Union

Value = Any  # int | bool | tuple | list (a Seq) | list[list[int]] (a Grid)


@dataclass(frozen=True)
class Encoding:
    """How a value type becomes circuit tokens: `n_tokens` positions over `vocab_size` ids."""

    n_tokens: int
    vocab_size: int


class _Type:
    """Shared behaviour; concrete types are the frozen dataclasses below."""

    def __str__(self) -> str:  # pragma: no cover - each type overrides
        raise NotImplementedError

    @property
    def is_value(self) -> bool:
        """Finite value types can cross a circuit boundary; `Integer` and functions cannot."""
        return not isinstance(self, IntegerT | FnT)


@dataclass(frozen=True)
class ScalarT(_Type):
    """A scalar is an integer range `[low, high]`; it encodes to the token `value - low`."""

    @property
    def low(self) -> int:
        raise NotImplementedError

    @property
    def high(self) -> int:
        raise NotImplementedError

    @property
    def size(self) -> int:
        return self.high - self.low + 1

    @property
    def encoding(self) -> Encoding:
        return Encoding(1, self.size)

    @property
    def domain_size(self) -> int:
        return self.size

    def contains(self, value: Value) -> bool:
        if isinstance(value, bool):
            return isinstance(self, BoolT)
        return isinstance(value, int) and self.low <= value <= self.high and not isinstance(self, BoolT)

    def lows(self) -> list[int]:
        return [self.low]

    def flatten(self, value: Value) -> list[int]:
        return [int(value)]

    def unflatten(self, flat: list[int]) -> Value:
        return bool(flat[0]) if isinstance(self, BoolT) else int(flat[0])

    def values(self) -> Iterator[Value]:
        if isinstance(self, BoolT):
            yield from (False, True)
        else:
            yield from range(self.low, self.high + 1)


@dataclass(frozen=True)
class BoolT(ScalarT):
    @property
    def low(self) -> int:
        return 0

    @property
    def high(self) -> int:
        return 1

    def __str__(self) -> str:
        return "Bool"


@dataclass(frozen=True)
class ModT(ScalarT):
    p: int

    @property
    def low(self) -> int:
        return 0

    @property
    def high(self) -> int:
        return self.p - 1

    def __str__(self) -> str:
        return f"Mod[{self.p}]"


@dataclass(frozen=True)
class IntT(ScalarT):
    lo: int
    hi: int

    @property
    def low(self) -> int:
        return self.lo

    @property
    def high(self) -> int:
        return self.hi

    def __str__(self) -> str:
        return f"Int[{self.lo}, {self.hi}]"


@dataclass(frozen=True)
class ColorT(ScalarT):
    """ARC's ten colours, 0–9 (arc-dsl's `Integer` cell values)."""

    @property
    def low(self) -> int:
        return 0

    @property
    def high(self) -> int:
        return 9

    def __str__(self) -> str:
        return "Color"


@dataclass(frozen=True)
class SeqT(_Type):
    elem: Type
    n: int

    def __str__(self) -> str:
        return f"Seq[{self.elem}, {self.n}]"


@dataclass(frozen=True)
class GridT(_Type):
    """An h×w grid of `Color`, stored row-major as nested lists."""

    h: int
    w: int

    def __str__(self) -> str:
        return f"Grid[{self.h}, {self.w}]"


@dataclass(frozen=True)
class TupleT(_Type):
    items: tuple[Type, ...]

    def __str__(self) -> str:
        return "(" + ", ".join(str(t) for t in self.items) + ")"


@dataclass(frozen=True)
class IntegerT(_Type):
    """Unbounded integers: what arithmetic in contracts computes with (Z3's Int)."""

    def __str__(self) -> str:
        return "Integer"


@dataclass(frozen=True)
class FnT(_Type):
    """A function value, as taken by `map`, `zip_with`, `fold` and `compose`."""

    params: tuple[Type, ...]
    result: Type

    def __str__(self) -> str:
        params = ", ".join(str(t) for t in self.params)
        return f"({params}) -> {self.result}" if len(self.params) != 1 else f"{params} -> {self.result}"


Type = Union[BoolT, ModT, IntT, ColorT, SeqT, GridT, TupleT, IntegerT, FnT]  # noqa: UP007

BOOL = BoolT()
COLOR = ColorT()
INTEGER = IntegerT()


def parts(t: Type) -> list[Type]:
    """The scalar leaves of a value type, in token order."""
    if isinstance(t, ScalarT):
        return [t]
    if isinstance(t, SeqT):
        return parts(t.elem) * t.n
    if isinstance(t, GridT):
        return [COLOR] * (t.h * t.w)
    if isinstance(t, TupleT):
        return [leaf for item in t.items for leaf in parts(item)]
    raise TypeError(f"{t} has no token encoding")


def encoding(t: Type) -> Encoding:
    """Tokens per value and the vocabulary they range over (the largest scalar leaf's)."""
    leaves = parts(t)
    return Encoding(len(leaves), max(leaf.size for leaf in leaves))


def domain_size(t: Type) -> int:
    return math.prod(leaf.size for leaf in parts(t))


def lows(t: Type) -> list[int]:
    """Per-token offsets: token = flat value - low. Vectorised encoders subtract this row."""
    return [leaf.low for leaf in parts(t)]


def flatten(t: Type, value: Value) -> list[int]:
    """A Python value of type `t` as its scalar leaves (raw values, not yet tokens)."""
    if isinstance(t, ScalarT):
        return [int(value)]
    if isinstance(t, SeqT):
        return [x for item in value for x in flatten(t.elem, item)]
    if isinstance(t, GridT):
        return [int(c) for row in value for c in row]
    if isinstance(t, TupleT):
        return [x for item_t, item in zip(t.items, value, strict=True) for x in flatten(item_t, item)]
    raise TypeError(f"{t} has no token encoding")


def unflatten(t: Type, flat: list[int]) -> Value:
    """Inverse of `flatten`."""
    value, rest = _unflatten(t, list(flat))
    if rest:
        raise ValueError(f"{len(rest)} values left over decoding {t}")
    return value


def _unflatten(t: Type, flat: list[int]) -> tuple[Value, list[int]]:
    if isinstance(t, ScalarT):
        return t.unflatten(flat[:1]), flat[1:]
    if isinstance(t, SeqT):
        items = []
        for _ in range(t.n):
            item, flat = _unflatten(t.elem, flat)
            items.append(item)
        return items, flat
    if isinstance(t, GridT):
        cells = flat[: t.h * t.w]
        return [cells[r * t.w : (r + 1) * t.w] for r in range(t.h)], flat[t.h * t.w :]
    if isinstance(t, TupleT):
        items = []
        for item_t in t.items:
            item, flat = _unflatten(item_t, flat)
            items.append(item)
        return tuple(items), flat
    raise TypeError(f"{t} has no token encoding")


def encode(t: Type, value: Value) -> list[int]:
    """A value as circuit tokens."""
    return [x - low for x, low in zip(flatten(t, value), lows(t), strict=True)]


def decode(t: Type, tokens: list[int]) -> Value:
    """Circuit tokens back to a value."""
    return unflatten(t, [tok + low for tok, low in zip(tokens, lows(t), strict=True)])


def contains(t: Type, value: Value) -> bool:
    """Whether a Python value is a member of `t` (shape and ranges)."""
    try:
        if isinstance(t, ScalarT):
            return t.contains(value)
        if isinstance(t, SeqT):
            return (
                isinstance(value, list | tuple)
                and len(value) == t.n
                and all(contains(t.elem, v) for v in value)
            )
        if isinstance(t, GridT):
            return (
                isinstance(value, list | tuple)
                and len(value) == t.h
                and all(isinstance(r, list | tuple) and len(r) == t.w for r in value)
                and all(COLOR.contains(c) for row in value for c in row)
            )
        if isinstance(t, TupleT):
            return (
                isinstance(value, list | tuple)
                and len(value) == len(t.items)
                and all(contains(it, v) for it, v in zip(t.items, value, strict=True))
            )
    except TypeError:
        return False
    return False


def values(t: Type) -> Iterator[Value]:
    """Every value of `t`, in token order (small domains only: the caller checks `domain_size`)."""
    leaves = parts(t)
    for flat in itertools.product(*(list(leaf.values()) for leaf in leaves)):
        yield unflatten(t, [int(v) for v in flat])


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


def is_numeric(t: Type) -> bool:
    """Types that contracts treat as integers."""
    return isinstance(t, ScalarT | IntegerT) and not isinstance(t, BoolT)
