"""circ's finite types: the type algebra.

Every value type is finite so that a circuit can tokenise it (DESIGN §3): a type knows its scalar
leaves (`parts`, in token order) and how big its domain is. A scalar is an integer range
`[low, high]`; `Seq`, `Grid` and tuples are made of their parts, row-major. `Integer` is the unbounded
mathematical integer of the contract sub-language only (it reaches Z3, never a circuit). How values of
these types are laid out as leaves is `circ.lang.layout`; how leaves become tokens is `circ.circuit`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union


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
    """A scalar is an integer range `[low, high]`."""

    @property
    def low(self) -> int:
        raise NotImplementedError

    @property
    def high(self) -> int:
        raise NotImplementedError

    @property
    def size(self) -> int:
        return self.high - self.low + 1


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


def parts(t: Type) -> list[ScalarT]:
    """The scalar leaves of a value type, in token order."""
    if isinstance(t, ScalarT):
        return [t]
    if isinstance(t, SeqT):
        return parts(t.elem) * t.n
    if isinstance(t, GridT):
        return [COLOR] * (t.h * t.w)
    if isinstance(t, TupleT):
        return [leaf for item in t.items for leaf in parts(item)]
    raise TypeError(f"{t} has no scalar leaves")


def width(t: Type) -> int:
    """How many scalar leaves a value of `t` has (a Seq's elements times theirs, a Grid's cells…)."""
    if isinstance(t, ScalarT):
        return 1
    if isinstance(t, SeqT):
        return t.n * width(t.elem)
    if isinstance(t, GridT):
        return t.h * t.w
    if isinstance(t, TupleT):
        return sum(width(item) for item in t.items)
    raise TypeError(f"{t} has no scalar leaves")


def domain_size(t: Type) -> int:
    return math.prod(leaf.size for leaf in parts(t))


def is_numeric(t: Type) -> bool:
    """Types that contracts treat as integers."""
    return isinstance(t, ScalarT | IntegerT) and not isinstance(t, BoolT)
