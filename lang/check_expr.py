"""The expression rules shared by function bodies and contracts (`check_body`, `check_contract`).

A checker types one expression tree bidirectionally: an expected type flows into literals (so
`Mod[97]`'s literal 120 is an error where it is written) and the rest is inferred. What differs
between the two languages — operators, calls, literals without a type, dynamic indices, how loosely
types compare — is a method each subclass defines; everything else is here, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from circ.lang import ast
from circ.lang import types as T
from circ.lang.diagnostics import Diagnostic, did_you_mean, error
from circ.lang.scope import COMBINATORS, UNKNOWN, Symbol, Unknown

if TYPE_CHECKING:
    from circ.lang.check import Checked


@dataclass
class Binding:
    type: T.Type
    span: ast.Span
    kind: str  # "param" | "let" | "result" | "bound"
    used: bool = False


@dataclass
class DeclState:
    """What the checkers of one declaration share: where it is, what is in scope, what was found."""

    checked: Checked
    symbol: Symbol
    env: dict[str, Binding] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def module(self) -> str:
        return self.symbol.module


class ExprChecker:
    """Types expressions; subclasses say what their language allows."""

    def __init__(self, state: DeclState) -> None:
        self.state = state

    @property
    def env(self) -> dict[str, Binding]:
        return self.state.env

    @property
    def checked(self) -> Checked:
        return self.state.checked

    # --- what each language decides -----------------------------------------------------------

    def compatible(self, expected: T.Type, found: T.Type) -> bool:
        raise NotImplementedError

    def untyped_literal(self, e: ast.IntLit, expected: T.Type | None) -> T.Type:
        """A number whose expected type is not a scalar (or is unknown)."""
        raise NotImplementedError

    def global_value(self, e: ast.Var, symbol: Symbol) -> T.Type:
        """A top-level name used as a value."""
        raise NotImplementedError

    def call(self, e: ast.Call, expected: T.Type | None) -> T.Type:
        raise NotImplementedError

    def dynamic_index(self, index: ast.Expr) -> None:
        """An index that is not a literal."""
        raise NotImplementedError

    def binop(self, e: ast.BinOp) -> T.Type:
        raise NotImplementedError

    def unaryop(self, e: ast.UnaryOp) -> T.Type:
        raise NotImplementedError

    def forall(self, e: ast.Forall) -> T.Type:
        raise NotImplementedError

    branches_take_expected = True  # both `if` branches are checked against an expected type

    # --- helpers ------------------------------------------------------------------------------

    def error(self, span: ast.Span, message: str, *notes: str) -> T.Type:
        self.state.diagnostics.append(error(span, message, *notes))
        return UNKNOWN

    def expect_type(self, expected: T.Type, found: T.Type, span: ast.Span, context: str) -> None:
        if not self.compatible(expected, found):
            self.error(span, f"{context}, but this is {found}")

    def want_bool(self, found: T.Type, span: ast.Span, what: str) -> None:
        if not self.compatible(T.BOOL, found):
            self.error(span, f"{what} must be Bool, but this is {found}")

    def want_numeric(self, found: T.Type, span: ast.Span, what: str) -> None:
        if not (isinstance(found, Unknown) or T.is_numeric(found)):
            self.error(span, f"{what} needs a number, but this is {found}")

    def names(self) -> list[str]:
        return list(self.env) + list(self.checked.scopes.visible[self.state.module]) + list(COMBINATORS)

    def check_quietly(self, args: tuple[ast.Expr, ...]) -> None:
        """Check arguments whose expected types are unknown (the call is already an error): report
        their own mistakes, but not that a bare literal has no type."""
        for arg in args:
            if not is_literal(arg):
                self.check(arg, None, allow_fn=True)

    # --- expressions --------------------------------------------------------------------------

    def check(self, e: ast.Expr, expected: T.Type | None, allow_fn: bool = False) -> T.Type:
        """The type of `e`; `expected` guides literals (mismatches are reported by the caller)."""
        match e:
            case ast.IntLit():
                found = self.int_literal(e, expected)
            case ast.BoolLit():
                found = T.BOOL
            case ast.Var():
                found = self.var(e)
            case ast.Call():
                found = self.call(e, expected)
            case ast.ListLit():
                found = self.list_literal(e, expected)
            case ast.TupleLit():
                found = self.tuple_literal(e, expected)
            case ast.Proj():
                found = self.proj(e)
            case ast.Index():
                found = self.index(e)
            case ast.If():
                found = self.if_(e, expected)
            case ast.BinOp():
                found = self.binop(e)
            case ast.UnaryOp():
                found = self.unaryop(e)
            case ast.Forall():
                found = self.forall(e)
        if isinstance(found, T.FnT) and not allow_fn:
            name = e.name if isinstance(e, ast.Var) else e.func if isinstance(e, ast.Call) else "this"
            found = self.error(
                e.span,
                f"`{name}` is a function, not a value: call it, or pass it to map, zip_with, fold or compose",
            )
        self.checked.types[e] = found
        return found

    def int_literal(self, e: ast.IntLit, expected: T.Type | None) -> T.Type:
        if isinstance(expected, T.IntegerT) and not isinstance(expected, Unknown):
            return expected
        if isinstance(expected, T.BoolT):
            return self.error(e.span, f"expected Bool, found the number {e.value}", "write `true` or `false`")
        if isinstance(expected, T.ScalarT):
            if not expected.low <= e.value <= expected.high:
                return self.error(
                    e.span, f"{e.value} is out of range for {expected} ({expected.low}..{expected.high})"
                )
            return expected
        return self.untyped_literal(e, expected)

    def var(self, e: ast.Var) -> T.Type:
        binding = self.env.get(e.name)
        if binding is not None:
            binding.used = True
            return binding.type
        if e.name == "result":
            return self.error(e.span, "`result` can only be used in an `ensures` clause")
        symbol = self.checked.scopes.lookup(self.state.module, e.name)
        if symbol is not None and symbol.kind == "type":
            return self.error(e.span, f"`{e.name}` is a type, not a value")
        if symbol is not None:
            return self.global_value(e, symbol)
        return self.error(e.span, f"unknown name `{e.name}`", *did_you_mean(e.name, self.names()))

    def list_literal(self, e: ast.ListLit, expected: T.Type | None) -> T.Type:
        if isinstance(expected, T.GridT):
            if len(e.items) != expected.h:
                return self.error(
                    e.span, f"{expected} needs {expected.h} rows, this literal has {len(e.items)}"
                )
            row = T.SeqT(T.COLOR, expected.w)
            for item in e.items:
                self.expect_type(
                    row, self.check(item, row), item.span, f"a row of {expected} should be {row}"
                )
            return expected
        if isinstance(expected, T.SeqT):
            if len(e.items) != expected.n:
                return self.error(
                    e.span, f"{expected} needs {expected.n} items, this literal has {len(e.items)}"
                )
            for item in e.items:
                found = self.check(item, expected.elem)
                self.expect_type(
                    expected.elem, found, item.span, f"an item of {expected} should be {expected.elem}"
                )
            return expected
        if not e.items:
            return self.error(e.span, "cannot tell the type of an empty list")
        first = self.check(e.items[0], None)
        for item in e.items[1:]:
            self.expect_type(
                first, self.check(item, first), item.span, f"items of this list should be {first}"
            )
        if isinstance(first, Unknown):
            return UNKNOWN
        return T.SeqT(first, len(e.items))

    def tuple_literal(self, e: ast.TupleLit, expected: T.Type | None) -> T.Type:
        hints = (
            expected.items if isinstance(expected, T.TupleT) and len(expected.items) == len(e.items) else None
        )
        items = []
        for i, item in enumerate(e.items):
            hint = hints[i] if hints else None
            found = self.check(item, hint)
            if hint is not None:
                self.expect_type(hint, found, item.span, f"component {i} should be {hint}")
            items.append(hint or found)
        return T.TupleT(tuple(items))

    def proj(self, e: ast.Proj) -> T.Type:
        base = self.check(e.expr, None)
        if isinstance(base, Unknown):
            return UNKNOWN
        if not isinstance(base, T.TupleT):
            return self.error(e.span, f"`.{e.index}` needs a tuple, but this is {base}")
        if e.index >= len(base.items):
            return self.error(e.span, f"{base} has no component .{e.index} (it has {len(base.items)})")
        return base.items[e.index]

    def index(self, e: ast.Index) -> T.Type:
        base = self.check(e.expr, None)
        if isinstance(base, T.SeqT):
            bounds, result = [base.n], base.elem
        elif isinstance(base, T.GridT):
            bounds = [base.h, base.w][: len(e.indices)]
            result = T.COLOR if len(e.indices) == 2 else T.SeqT(T.COLOR, base.w)
        else:
            for index in e.indices:
                self.check(index, T.INTEGER)
            if isinstance(base, Unknown):
                return UNKNOWN
            return self.error(e.span, f"indexing needs a Seq or a Grid, but this is {base}")
        if len(e.indices) > (2 if isinstance(base, T.GridT) else 1):
            return self.error(
                e.span, f"{base} takes {'one or two indices' if len(bounds) > 1 else 'one index'}"
            )
        for index, bound in zip(e.indices, bounds, strict=False):
            if isinstance(index, ast.IntLit):
                self.checked.types[index] = T.IntT(0, bound - 1)
                if not 0 <= index.value < bound:
                    self.error(index.span, f"index {index.value} is out of range for {base} (0..{bound - 1})")
            else:
                self.dynamic_index(index)
        return result

    def if_(self, e: ast.If, expected: T.Type | None) -> T.Type:
        self.want_bool(self.check(e.cond, T.BOOL), e.cond.span, "the condition of `if`")
        if expected is None and is_literal(e.then) and not is_literal(e.orelse):
            orelse = self.check(e.orelse, None)  # `if c then 1 else x`: the literal takes x's type
            then = self.check(e.then, orelse if not isinstance(orelse, Unknown) else None)
            if not self.compatible(orelse, then):
                return self.error(
                    e.then.span, f"the branches of `if` differ: `then` is {then}, `else` is {orelse}"
                )
            return orelse
        then = self.check(e.then, expected)
        if expected is not None and not isinstance(expected, Unknown) and self.branches_take_expected:
            orelse = self.check(e.orelse, expected)
            self.expect_type(expected, orelse, e.orelse.span, f"this branch should be {expected}")
            return expected
        orelse = self.check(e.orelse, then if not isinstance(then, Unknown) else None)
        if not self.compatible(then, orelse):
            return self.error(
                e.orelse.span, f"the branches of `if` differ: `then` is {then}, `else` is {orelse}"
            )
        return then if not isinstance(then, Unknown) else orelse


def is_literal(e: ast.Expr) -> bool:
    return isinstance(e, ast.IntLit) or (isinstance(e, ast.ListLit) and all(map(is_literal, e.items)))
