"""circ types as Z3 values: each scalar leaf is a Z3 constant, kept inside its type's range.

A symbolic value mirrors the Python value (`circ.lang.types.Value`): `Mod[p]`, `Int[lo, hi]` and
`Color` are Z3 Ints with `lo ≤ x ≤ hi` constraints, `Bool` is a Z3 Bool, a `Seq` is a list of n
values, a `Grid` a list of rows, a tuple a tuple. Sequences are unrolled rather than Z3 Arrays: every
length is a small constant, and unrolled terms keep the solver in quantifier-free arithmetic.
"""

from __future__ import annotations

from typing import Any

import z3

from circ.lang import types as T

Sym = Any  # z3.ArithRef | z3.BoolRef | list[Sym] | tuple[Sym, ...]


def fresh(name: str, t: T.Type) -> tuple[Sym, list[z3.BoolRef]]:
    """New Z3 constants for a value of type `t`, named after it, and the constraints of its range."""
    if isinstance(t, T.BoolT):
        return z3.Bool(name), []
    if isinstance(t, T.ScalarT):
        x = z3.Int(name)
        return x, [x >= t.low, x <= t.high]
    if isinstance(t, T.SeqT):
        items = [fresh(f"{name}[{i}]", t.elem) for i in range(t.n)]
        return [v for v, _ in items], [c for _, cs in items for c in cs]
    if isinstance(t, T.GridT):
        rows = [[fresh(f"{name}[{r}, {c}]", T.COLOR) for c in range(t.w)] for r in range(t.h)]
        return [[v for v, _ in row] for row in rows], [c for row in rows for _, cs in row for c in cs]
    if isinstance(t, T.TupleT):
        items = [fresh(f"{name}.{i}", item) for i, item in enumerate(t.items)]
        return tuple(v for v, _ in items), [c for _, cs in items for c in cs]
    raise TypeError(f"{t} has no Z3 value")


def constant(value: object) -> Sym:
    """A Python value (int, bool, nested lists and tuples) as Z3 terms."""
    if isinstance(value, bool):
        return z3.BoolVal(value)
    if isinstance(value, int):
        return z3.IntVal(value)
    if isinstance(value, tuple):
        return tuple(constant(v) for v in value)
    return [constant(v) for v in value]  # type: ignore[union-attr]


def ite(cond: z3.BoolRef, then: Sym, orelse: Sym) -> Sym:
    """`if cond then … else …`, leaf by leaf."""
    if isinstance(then, list | tuple):
        items = [ite(cond, a, b) for a, b in zip(then, orelse, strict=True)]
        return tuple(items) if isinstance(then, tuple) else items
    return z3.If(cond, then, orelse)


def equal(a: Sym, b: Sym) -> z3.BoolRef:
    """Structural equality; the checker has made the shapes agree."""
    if isinstance(a, list | tuple):
        return z3.And(*[equal(x, y) for x, y in zip(a, b, strict=True)])
    return a == b


def leaves(value: Sym) -> list[z3.ExprRef]:
    if isinstance(value, list | tuple):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


def evaluate(model: z3.ModelRef, value: Sym) -> object:
    """A symbolic value's Python value in a model (unconstrained leaves take Z3's default)."""
    if isinstance(value, tuple):
        return tuple(evaluate(model, v) for v in value)
    if isinstance(value, list):
        return [evaluate(model, v) for v in value]
    found = model.eval(value, model_completion=True)
    return z3.is_true(found) if z3.is_bool(found) else found.as_long()
