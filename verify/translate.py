"""Contracts → Z3: each contract expression becomes a term and the condition under which it is
defined, with the same semantics as the concrete evaluator (`circ.lang.evaluate`).

Division and remainder are Euclidean in both (SMT-LIB `div`/`mod`); division by zero and an index
out of range make an expression undefined rather than false. `and`, `or`, `if` and `forall`
short-circuit as the evaluator does, so `b != 0 and a / b > 1` is defined when `b` is 0. A
`forall` over a constant range is unrolled; over a symbolic range it becomes a bounded quantifier.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import count

import z3

from circ.lang import ast
from circ.verify.sorts import Sym, equal, ite

_OPERATORS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
}
_bound_names = count()


class Unsupported(Exception):
    """A contract expression with no Z3 translation (the checker keeps calls out of contracts)."""


@dataclass(frozen=True)
class Term:
    value: Sym
    defined: z3.BoolRef  # when false, `value` is meaningless (the evaluator raises `Undefined`)


TRUE = z3.BoolVal(True)


def translate(e: ast.Expr, env: Mapping[str, Sym]) -> Term:
    """The Z3 term of a contract expression whose free names are bound in `env`."""
    if isinstance(e, ast.IntLit):
        return Term(z3.IntVal(e.value), TRUE)
    if isinstance(e, ast.BoolLit):
        return Term(z3.BoolVal(e.value), TRUE)
    if isinstance(e, ast.Var):
        return Term(env[e.name], TRUE)
    if isinstance(e, ast.BinOp):
        return _binop(e, env)
    if isinstance(e, ast.UnaryOp):
        t = translate(e.operand, env)
        return Term(z3.Not(t.value) if e.op == "not" else -t.value, t.defined)
    if isinstance(e, ast.If):
        c, then, orelse = (translate(x, env) for x in (e.cond, e.then, e.orelse))
        defined = _and(c.defined, z3.If(c.value, then.defined, orelse.defined))
        return Term(ite(c.value, then.value, orelse.value), defined)
    if isinstance(e, ast.Forall):
        return _forall(e, env)
    if isinstance(e, ast.Index):
        return _index(e, env)
    if isinstance(e, ast.Proj):
        t = translate(e.expr, env)
        return Term(t.value[e.index], t.defined)
    if isinstance(e, ast.ListLit | ast.TupleLit):
        items = [translate(item, env) for item in e.items]
        values = [t.value for t in items]
        defined = _and(*(t.defined for t in items))
        return Term(tuple(values) if isinstance(e, ast.TupleLit) else values, defined)
    raise Unsupported(f"{type(e).__name__} has no meaning in a contract")


def _and(*conditions: z3.BoolRef) -> z3.BoolRef:
    kept = [c for c in conditions if not z3.is_true(c)]
    return TRUE if not kept else kept[0] if len(kept) == 1 else z3.And(*kept)


def _binop(e: ast.BinOp, env: Mapping[str, Sym]) -> Term:
    left, right = translate(e.left, env), translate(e.right, env)
    if e.op == "and":
        defined = _and(left.defined, z3.Implies(left.value, right.defined))
        return Term(z3.And(left.value, right.value), defined)
    if e.op == "or":
        return Term(
            z3.Or(left.value, right.value), _and(left.defined, z3.Implies(z3.Not(left.value), right.defined))
        )
    defined = _and(left.defined, right.defined)
    if e.op in ("==", "!="):
        same = equal(left.value, right.value)
        return Term(same if e.op == "==" else z3.Not(same), defined)
    if e.op in _OPERATORS:
        return Term(_OPERATORS[e.op](left.value, right.value), defined)
    # z3's Int `/` and `%` are SMT-LIB's Euclidean div and mod, as `contracts.euclid_div/mod` are
    value = left.value / right.value if e.op == "/" else left.value % right.value
    nonzero = (
        TRUE if _constant(right.value) not in (None, 0) else right.value != 0
    )  # `% 97` is always defined
    return Term(value, _and(defined, nonzero))


def _constant(term: z3.ExprRef) -> int | None:
    simple = z3.simplify(term)
    return simple.as_long() if z3.is_int_value(simple) else None


def _forall(e: ast.Forall, env: Mapping[str, Sym]) -> Term:
    lo, hi = translate(e.lo, env), translate(e.hi, env)
    bounds = _and(lo.defined, hi.defined)
    first, last = _constant(lo.value), _constant(hi.value)
    if first is not None and last is not None:
        body = [translate(e.body, {**env, e.var: z3.IntVal(i)}) for i in range(first, last)]
        # `all(…)` stops at the first false body: later bodies need only be defined after true ones
        defined = [z3.Implies(_and(*(b.value for b in body[:k])), b.defined) for k, b in enumerate(body)]
        return Term(_and(*(b.value for b in body)), _and(bounds, *defined))
    i, j = (z3.Int(f"{e.var}!{next(_bound_names)}") for _ in range(2))
    body = translate(e.body, {**env, e.var: i})
    within = z3.And(lo.value <= i, i < hi.value)
    # as when unrolled, a body need only be defined if every earlier one is true (`all(…)` stops at
    # the first false one): over the first non-true body, the earlier ones are defined and true
    earlier_true = z3.ForAll([j], z3.Implies(z3.And(lo.value <= j, j < i), z3.substitute(body.value, (i, j))))
    defined = _and(bounds, z3.ForAll([i], z3.Implies(z3.And(within, earlier_true), body.defined)))
    return Term(z3.ForAll([i], z3.Implies(within, body.value)), defined)


def _index(e: ast.Index, env: Mapping[str, Sym]) -> Term:
    base = translate(e.expr, env)
    value, defined = base.value, base.defined
    for n, index_expr in enumerate(e.indices):
        index = translate(index_expr, env)
        defined = _and(defined, index.defined)
        at = _constant(index.value)
        if at is not None:
            if not 0 <= at < len(value):  # out of range: undefined; any element of the right shape stands in
                for _ in e.indices[n:]:
                    value = value[0]
                return Term(value, z3.BoolVal(False))
            value = value[at]
            continue
        defined = _and(defined, index.value >= 0, index.value < len(value))
        chosen = value[-1]
        for k in range(len(value) - 2, -1, -1):
            chosen = ite(index.value == k, value[k], chosen)
        value = chosen
    return Term(value, defined)
