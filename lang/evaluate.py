"""Evaluate contract expressions on concrete values: the runtime's check that a circuit's output
satisfies its `ensures` (traces), and the reference semantics that tests compare programs with.

Integer division and remainder are Euclidean, as in Z3 (SMT-LIB `div`/`mod`), so a contract means
the same thing here as in the proofs: `a % b` is always in 0..|b|-1.
"""

from __future__ import annotations

from collections.abc import Mapping

from circ.lang import ast


class Undefined(Exception):
    """The contract has no value here (division by zero, an index out of range)."""


def euclid_div(a: int, b: int) -> int:
    if b == 0:
        raise Undefined("division by zero")
    return (a - euclid_mod(a, b)) // b


def euclid_mod(a: int, b: int) -> int:
    if b == 0:
        raise Undefined("remainder by zero")
    return a % abs(b)


_ARITHMETIC = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": euclid_div,
    "%": euclid_mod,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _equal(a: object, b: object) -> bool:
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def evaluate(e: ast.Expr, env: Mapping[str, object]) -> object:
    if isinstance(e, ast.IntLit | ast.BoolLit):
        return e.value
    if isinstance(e, ast.Var):
        return env[e.name]
    if isinstance(e, ast.BinOp):
        if e.op == "and":
            return bool(evaluate(e.left, env)) and bool(evaluate(e.right, env))
        if e.op == "or":
            return bool(evaluate(e.left, env)) or bool(evaluate(e.right, env))
        left, right = evaluate(e.left, env), evaluate(e.right, env)
        if e.op == "==":
            return _equal(left, right)
        if e.op == "!=":
            return not _equal(left, right)
        return _ARITHMETIC[e.op](int(left), int(right))
    if isinstance(e, ast.UnaryOp):
        operand = evaluate(e.operand, env)
        return (not operand) if e.op == "not" else -int(operand)
    if isinstance(e, ast.If):
        return evaluate(e.then if evaluate(e.cond, env) else e.orelse, env)
    if isinstance(e, ast.Forall):
        lo, hi = int(evaluate(e.lo, env)), int(evaluate(e.hi, env))
        return all(evaluate(e.body, {**env, e.var: i}) for i in range(lo, hi))
    if isinstance(e, ast.Index):
        value = evaluate(e.expr, env)
        for index in e.indices:
            i = int(evaluate(index, env))
            if not 0 <= i < len(value):
                raise Undefined(f"index {i} is out of range")
            value = value[i]
        return value
    if isinstance(e, ast.Proj):
        return evaluate(e.expr, env)[e.index]
    if isinstance(e, ast.ListLit):
        return [evaluate(item, env) for item in e.items]
    if isinstance(e, ast.TupleLit):
        return tuple(evaluate(item, env) for item in e.items)
    raise Undefined(f"{type(e).__name__} cannot be evaluated in a contract")


def requires_hold(decl: ast.FnDecl | ast.CircuitDecl, args: list[object]) -> bool | None:
    """Whether these arguments meet every `requires` of `decl` (an undefined one does not); None
    when it has none."""
    clauses = [c for c in decl.contracts if c.kind == "requires"]
    if not clauses:
        return None
    env = {p.name: a for p, a in zip(decl.params, args, strict=True)}
    try:
        return all(bool(evaluate(c.expr, env)) for c in clauses)
    except Undefined:
        return False


def satisfied(decl: ast.FnDecl | ast.CircuitDecl, args: list[object], result: object) -> bool | None:
    """Whether `result` meets every `ensures` of `decl` for these arguments; None when the
    declaration promises nothing here (no `ensures`, or a `requires` that does not hold)."""
    env = {p.name: a for p, a in zip(decl.params, args, strict=True)}
    try:
        if not all(evaluate(c.expr, env) for c in decl.contracts if c.kind == "requires"):
            return None
        ensures = [c for c in decl.contracts if c.kind == "ensures"]
        if not ensures:
            return None
        env["result"] = result
        return all(bool(evaluate(c.expr, env)) for c in ensures)
    except Undefined:
        return None
