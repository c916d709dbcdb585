"""Function bodies → verification conditions, modularly (Hoare style, DESIGN §6.2).

A body is executed symbolically over Z3 values. A call to a circuit — or to a `fn` with contracts —
is opaque: its result is a fresh value of its type, known only through its `ensures` (assumed
whenever its `requires` holds), and each of its `requires` becomes a goal at the call. A `fn`
without contracts is inlined. Combinators are unrolled as `compiler.lower` unrolls them. A call
inside an `if` branch owes its `requires` only when that branch is taken; both branches still run
(the graph is pure dataflow), so every call's `ensures` is assumed unconditionally.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

import z3

from circ.lang import ast
from circ.lang import types as T
from circ.lang.check import Checked
from circ.lang.scope import COMBINATORS, Symbol
from circ.runtime.verify.sorts import Sym, constant, fresh, ite
from circ.runtime.verify.translate import TRUE, translate


@dataclass(frozen=True)
class _Global:
    symbol: Symbol


@dataclass(frozen=True)
class _Composed:
    """`compose(f, g)`: x ↦ f(g(x))."""

    f: _Global | _Composed
    g: _Global | _Composed


_Fn = _Global | _Composed


@dataclass(frozen=True)
class Goal:
    """Something to prove, with what a counter-model should show."""

    kind: str  # "requires" (of a call) | "ensures" (of the function)
    clause: ast.Contract  # the clause as written (in the callee for a `requires`)
    span: ast.Span  # where the obligation arises: the call, or the clause itself
    claim: z3.BoolRef
    env: dict[str, Sym]  # the clause's names (the callee's parameters for a `requires`)
    callee: str | None = None


@dataclass
class Conditions:
    """What holds in a function (assumptions) and what must be proved there (goals)."""

    function: Symbol
    assumptions: list[z3.BoolRef] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    shown: list[tuple[str, Sym]] = field(default_factory=list)  # names in source terms, for counter-models


def conditions(checked: Checked, function: Symbol) -> Conditions:
    """The verification conditions of one `fn`: its `requires` and its callees' `ensures` assumed,
    its callees' `requires` and its own `ensures` to prove."""
    return _Executor(checked, function).run()


class _Executor:
    def __init__(self, checked: Checked, function: Symbol) -> None:
        self.checked = checked
        self.out = Conditions(function)
        self.calls = count(1)
        self.named: set[int] = set()  # ids of call nodes whose result a let (or `result`) names

    def run(self) -> Conditions:
        symbol, out = self.out.function, self.out
        env: dict[str, Sym | _Fn] = {}
        for name, type_ in symbol.signature.params:
            env[name], ranges = fresh(name, type_)
            out.assumptions += ranges
            out.shown.append((name, env[name]))
        for clause in _clauses(symbol.decl, "requires"):
            term = translate(clause.expr, env)
            out.assumptions.append(z3.And(term.defined, term.value))  # callers prove both
        result = self.body(symbol.decl.body, env, TRUE, top=True)
        out.shown.append(("result", result))
        for clause in _clauses(symbol.decl, "ensures"):
            scope = {**env, "result": result}
            term = translate(clause.expr, scope)
            claim = z3.And(term.defined, term.value)
            out.goals.append(Goal("ensures", clause, clause.expr.span, claim, _values(scope)))
        return out

    def body(self, block: ast.Block, env: dict, path: z3.BoolRef, top: bool = False) -> Sym:
        env = dict(env)
        for let in block.lets:
            if top:
                self.named.add(id(let.value))
            env[let.name] = self.expr(let.value, env, path, top)
            if top and not isinstance(env[let.name], _Global | _Composed):
                self.out.shown.append((let.name, env[let.name]))
        if top:
            self.named.add(id(block.result))
        return self.expr(block.result, env, path, top)

    # --- calls --------------------------------------------------------------------------------

    def apply(self, fn: _Fn, args: list[Sym], span: ast.Span, path: z3.BoolRef) -> Sym:
        if isinstance(fn, _Composed):
            return self.apply(fn.f, [self.apply(fn.g, args, span, path)], span, path)
        symbol = fn.symbol
        if symbol.kind == "fn" and not symbol.decl.contracts:
            env = {p.name: a for p, a in zip(symbol.decl.params, args, strict=True)}
            return self.body(symbol.decl.body, env, path)
        return self.opaque(symbol, args, span, path)

    def opaque(self, symbol: Symbol, args: list[Sym], span: ast.Span, path: z3.BoolRef) -> Sym:
        env = {p.name: a for p, a in zip(symbol.decl.params, args, strict=True)}
        holds = []
        for clause in _clauses(symbol.decl, "requires"):
            term = translate(clause.expr, env)
            holds.append(z3.And(term.defined, term.value))
            claim = z3.Implies(path, holds[-1])
            self.out.goals.append(Goal("requires", clause, span, claim, dict(env), symbol.name))
        result, ranges = fresh(f"{symbol.name}!{next(self.calls)}", symbol.signature.result)
        self.out.assumptions += ranges
        for clause in _clauses(symbol.decl, "ensures"):
            term = translate(clause.expr, {**env, "result": result})
            self.out.assumptions.append(z3.Implies(z3.And(*holds, term.defined), term.value))
        return result

    # --- expressions --------------------------------------------------------------------------

    def expr(self, e: ast.Expr, env: dict, path: z3.BoolRef, top: bool = False) -> Sym | _Fn:
        if isinstance(e, ast.IntLit | ast.BoolLit):
            return constant(e.value)
        if isinstance(e, ast.Var):
            return env[e.name] if e.name in env else _Global(self.checked.callees[e])
        if isinstance(e, ast.ListLit):
            return [self.expr(item, env, path, top) for item in e.items]
        if isinstance(e, ast.TupleLit):
            return tuple(self.expr(item, env, path, top) for item in e.items)
        if isinstance(e, ast.Proj):
            return self.expr(e.expr, env, path, top)[e.index]
        if isinstance(e, ast.Index):
            value = self.expr(e.expr, env, path, top)
            for index in e.indices:  # static: the checker allows literals only in bodies
                value = value[index.value]
            return value
        if isinstance(e, ast.If):
            cond = self.expr(e.cond, env, path, top)
            then = self.expr(e.then, env, z3.And(path, cond), top)
            orelse = self.expr(e.orelse, env, z3.And(path, z3.Not(cond)), top)
            return ite(cond, then, orelse)
        if isinstance(e, ast.Call):
            return self.call(e, env, path, top)
        raise AssertionError(f"the checker rejects {type(e).__name__} in a function body")

    def elements(self, e: ast.Expr, env: dict, path: z3.BoolRef, top: bool) -> list[Sym]:
        """A Seq's items, or a Grid's cells row by row, as the combinators visit them."""
        value = self.expr(e, env, path, top)
        if isinstance(self.checked.types[e], T.GridT):
            return [cell for row in value for cell in row]
        return list(value)

    def call(self, e: ast.Call, env: dict, path: z3.BoolRef, top: bool) -> Sym | _Fn:
        if e.func in COMBINATORS and e.func not in env:
            fn = self.expr(e.args[0], env, path, top)
            if e.func == "compose":
                return _Composed(fn, self.expr(e.args[1], env, path, top))
            if e.func == "fold":
                acc = self.expr(e.args[1], env, path, top)
                for x in self.elements(e.args[2], env, path, top):
                    acc = self.apply(fn, [acc, x], e.span, path)
                return acc
            columns = [self.elements(a, env, path, top) for a in e.args[1:]]
            results = [self.apply(fn, list(xs), e.span, path) for xs in zip(*columns, strict=True)]
            shape = self.checked.types[e.args[1]]
            if isinstance(shape, T.GridT):  # a Grid is rebuilt row by row
                return [results[r * shape.w : (r + 1) * shape.w] for r in range(shape.h)]
            return results
        fn = env[e.func] if e.func in env else _Global(self.checked.callees[e])
        args = [self.expr(a, env, path, top) for a in e.args]
        result = self.apply(fn, args, e.span, path)
        if top and id(e) not in self.named:
            source = self.checked.program.sources[e.span.path]
            self.out.shown.append((e.span.excerpt(source), result))
        return result


def _clauses(decl: ast.FnDecl | ast.CircuitDecl, kind: str) -> list[ast.Contract]:
    return [c for c in decl.contracts if c.kind == kind]


def _values(env: dict) -> dict[str, Sym]:
    return {k: v for k, v in env.items() if not isinstance(v, _Global | _Composed)}
