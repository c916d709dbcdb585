"""The `.circ` abstract syntax tree: frozen dataclasses, each carrying the source span it came from.

Nodes compare by identity (`eq=False`): the checker keys its type table by node, and two textually
equal expressions in different places are different nodes. Golden tests compare `dump(node)`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Union


@dataclass(frozen=True)
class Span:
    """A source range; lines and columns are 1-based, as editors show them."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"

    def excerpt(self, source: str) -> str:
        """The text this span covers in `source`, its lines joined by spaces."""
        lines = source.splitlines()[self.line - 1 : self.end_line]
        lines[-1] = lines[-1][: self.end_column - 1]
        lines[0] = lines[0][self.column - 1 :]
        return " ".join(line.strip() for line in lines)


node = dataclass(frozen=True, eq=False)


# --- types as written -------------------------------------------------------------------------


@node
class NamedType:
    """`Bool`, `Color`, an alias, or an applied type such as `Mod[97]` or `Seq[Color, 6]`."""

    name: str
    args: tuple[TypeExpr | int, ...]
    span: Span


@node
class TupleType:
    items: tuple[TypeExpr, ...]
    span: Span


TypeExpr = Union[NamedType, TupleType]  # noqa: UP007


# --- expressions ------------------------------------------------------------------------------


@node
class IntLit:
    value: int
    span: Span


@node
class BoolLit:
    value: bool
    span: Span


@node
class Var:
    name: str
    span: Span


@node
class Call:
    """`f(a, b)`; also the combinators `map`, `zip_with`, `fold`, `compose`, which the checker knows."""

    func: str
    args: tuple[Expr, ...]
    span: Span
    func_span: Span


@node
class ListLit:
    """`[a, b, c]`: a `Seq` literal, or a `Grid` literal when its items are rows."""

    items: tuple[Expr, ...]
    span: Span


@node
class TupleLit:
    items: tuple[Expr, ...]
    span: Span


@node
class Proj:
    """`t.0`: a tuple component."""

    expr: Expr
    index: int
    span: Span


@node
class Index:
    """`xs[i]` on a Seq, `g[r, c]` on a Grid."""

    expr: Expr
    indices: tuple[Expr, ...]
    span: Span


@node
class If:
    cond: Expr
    then: Expr
    orelse: Expr
    span: Span


@node
class BinOp:
    """Arithmetic, comparison and logic; the checker allows these only in contracts."""

    op: str
    left: Expr
    right: Expr
    span: Span
    op_span: Span


@node
class UnaryOp:
    op: str  # "-" or "not"
    operand: Expr
    span: Span


@node
class Forall:
    """`forall i in lo..hi: body`, over the half-open integer range [lo, hi)."""

    var: str
    lo: Expr
    hi: Expr
    body: Expr
    span: Span


Expr = Union[IntLit, BoolLit, Var, Call, ListLit, TupleLit, Proj, Index, If, BinOp, UnaryOp, Forall]  # noqa: UP007


# --- declarations -----------------------------------------------------------------------------


@node
class Param:
    name: str
    type: TypeExpr
    span: Span


@node
class Contract:
    kind: str  # "requires" | "ensures"
    expr: Expr
    span: Span


@node
class Let:
    name: str
    type: TypeExpr | None
    value: Expr
    span: Span


@node
class Block:
    lets: tuple[Let, ...]
    result: Expr
    span: Span


@node
class FnDecl:
    name: str
    params: tuple[Param, ...]
    ret: TypeExpr
    contracts: tuple[Contract, ...]
    body: Block
    span: Span
    name_span: Span


@node
class CircuitDecl:
    """A primitive: declared here, its body a learned circuit looked up by `learned` in the catalog."""

    name: str
    params: tuple[Param, ...]
    ret: TypeExpr
    contracts: tuple[Contract, ...]
    learned: str
    span: Span
    name_span: Span


@node
class Example:
    """`input -> output` in a `synth` spec (several inputs are written as a tuple)."""

    inputs: Expr
    output: Expr
    span: Span


@node
class SynthDecl:
    """`synth fn f(…) -> T examples { … } ensures …;`: a function `circ synth` is to find."""

    name: str
    params: tuple[Param, ...]
    ret: TypeExpr
    contracts: tuple[Contract, ...]
    examples: tuple[Example, ...]
    span: Span
    name_span: Span


@node
class TypeAlias:
    name: str
    type: TypeExpr
    span: Span


@node
class Use:
    """`use stdlib.modular;` — a module path, resolved by `lang.modules`."""

    path: tuple[str, ...]
    span: Span


Item = Union[Use, TypeAlias, FnDecl, CircuitDecl, SynthDecl]  # noqa: UP007


@node
class Module:
    path: str
    items: tuple[Item, ...]
    span: Span


def dump(value: object, indent: int = 0) -> str:
    """A stable text form of a tree (positions as `@line:col`), for golden tests."""
    pad = "  " * indent
    if isinstance(value, tuple):
        if not value:
            return "()"
        return "\n".join(dump(v, indent) for v in value)
    if not hasattr(value, "__dataclass_fields__") or isinstance(value, Span):
        return pad + repr(value)
    scalars = []
    children = []
    for f in fields(value):  # type: ignore[arg-type]
        v = getattr(value, f.name)
        if isinstance(v, Span):
            continue
        if (isinstance(v, tuple) and any(hasattr(x, "__dataclass_fields__") for x in v)) or hasattr(
            v, "__dataclass_fields__"
        ):
            children.append((f.name, v))
        else:
            scalars.append(f"{f.name}={v!r}")
    span = getattr(value, "span", None)
    where = f" @{span.line}:{span.column}" if isinstance(span, Span) else ""
    head = f"{pad}{type(value).__name__}({', '.join(scalars)}){where}"
    lines = [head]
    for name, v in children:
        lines.append(f"{pad}  .{name}:")
        lines.append(dump(v, indent + 2))
    return "\n".join(lines)
