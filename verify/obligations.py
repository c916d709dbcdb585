"""A function's verification conditions (Hoare style, DESIGN §6.2), generated from its lowered graph.

The graph is the one that runs (`compiler.lower`, with `keep_contracts=True`): every value is its
node's Z3 terms, leaf by leaf (`circ.lang.layout`), and each structural builtin picks terms with the
same `compiler.builtins.selection` the runtime slices columns with, so what is proved is what
executes. A circuit — or a `fn` with contracts, kept as one `call` node — is opaque: its result is a
fresh value of its type, known only through its `ensures` (assumed whenever its `requires` holds),
and each of its `requires` becomes a goal, owed only when the output needs the call
(`compiler.demand`: a call in an untaken `if` branch owes nothing). A `fn` without contracts was
inlined by the lowering, and combinators were unrolled there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import z3

from circ.compiler import nodes as N
from circ.compiler.builtins import SELECT, pick, select_leaves, selection
from circ.compiler.demand import Algebra, demand
from circ.compiler.lower import lower
from circ.lang import ast
from circ.lang.check import Checked
from circ.lang.layout import leaves, structure
from circ.lang.scope import Symbol
from circ.verify.sorts import Sym, constant, fresh
from circ.verify.translate import TRUE, translate

Owed = tuple[int, ast.Contract, z3.BoolRef, dict[str, Sym]]  # (call node, clause, it holds, its names)


@dataclass(frozen=True)
class Goal:
    """Something to prove, with what a counter-model should show."""

    kind: str  # "requires" (of a call) | "ensures" (of the function)
    clause: ast.Contract  # the clause as written (in the callee for a `requires`)
    span: ast.Span  # where the obligation arises: the call, or the clause itself
    claim: z3.BoolRef
    env: dict[str, Sym]  # the clause's names (the callee's parameters for a `requires`)
    callee: str | None = None
    node: int | None = None  # requires: the call node in the function's lowered graph


@dataclass
class Conditions:
    """What holds in a function (assumptions) and what must be proved there (goals)."""

    function: Symbol
    assumptions: list[z3.BoolRef] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    shown: list[tuple[str, Sym]] = field(default_factory=list)  # names in source terms, for counter-models


def _and(a: z3.BoolRef, b: z3.BoolRef) -> z3.BoolRef:
    return b if z3.is_true(a) else a if z3.is_true(b) else z3.And(a, b)


def _or(a: z3.BoolRef, b: z3.BoolRef) -> z3.BoolRef:
    return a if z3.is_true(a) else b if z3.is_true(b) else z3.Or(a, b)


Z3_CONDITIONS: Algebra[z3.BoolRef] = Algebra(TRUE, _and, _or, z3.Not)


def conditions(checked: Checked, function: Symbol) -> Conditions:
    """The verification conditions of one `fn`: its `requires` and its callees' `ensures` assumed,
    its callees' `requires` and its own `ensures` to prove."""
    graph = lower(checked, function, keep_contracts=True)
    out = Conditions(function)
    terms: dict[int, list[Any]] = {}  # node → its Z3 leaves
    owed: list[Owed] = []
    for node in nx.topological_sort(graph):
        attrs = graph.nodes[node]
        op, t = attrs[N.OP], attrs[N.TYPE]
        args = N.args_of(graph, node)
        if op == "input":
            value, ranges = fresh(attrs[N.NAME], t)
            out.assumptions += ranges
            terms[node] = leaves(t, value)
        elif op == "const":
            terms[node] = leaves(t, constant(attrs[N.VALUE]))
        elif op == "builtin" and attrs[N.BUILTIN] == SELECT:
            cond, then, orelse = (terms[a] for a in args)
            terms[node] = select_leaves(cond[0], then, orelse, z3.If)
        elif op == "builtin":
            arg_types = [graph.nodes[a][N.TYPE] for a in args]
            terms[node] = pick(selection(attrs, arg_types), [terms[a] for a in args])
        elif op in ("circuit", "call"):
            terms[node] = _opaque(graph, node, terms, out, owed)
        else:  # output
            terms[node] = terms[args[0]]

    def value(node: int) -> Sym:
        return structure(graph.nodes[node][N.TYPE], terms[node])

    needed = demand(graph, Z3_CONDITIONS, lambda node: terms[node][0])
    for node, clause, holds, env in owed:
        if node in needed:
            span, callee = graph.nodes[node][N.SPAN], graph.nodes[node][N.NAME]
            claim = z3.Implies(needed[node], holds)
            out.goals.append(Goal("requires", clause, span, claim, env, callee, node))
    names = [name for name, _ in function.signature.params]
    params = {name: value(n) for name, n in zip(names, N.inputs(graph), strict=True)}
    for clause in _clauses(function.decl, "requires"):
        term = translate(clause.expr, params)
        out.assumptions.append(z3.And(term.defined, term.value))  # callers prove both
    scope = {**params, "result": value(N.output(graph))}
    for clause in _clauses(function.decl, "ensures"):
        term = translate(clause.expr, scope)
        out.goals.append(Goal("ensures", clause, clause.expr.span, z3.And(term.defined, term.value), scope))
    out.shown = [(name, value(n)) for name, n in graph.graph["shown"]]
    return out


def _opaque(
    graph: nx.MultiDiGraph, node: int, terms: dict[int, list[Any]], out: Conditions, owed: list[Owed]
) -> list[Any]:
    """A call known by its contract: a fresh result, its `ensures` assumed where its `requires` hold."""
    attrs = graph.nodes[node]
    decl = attrs[N.DECL]
    args = N.args_of(graph, node)
    env = {
        p.name: structure(graph.nodes[a][N.TYPE], terms[a]) for p, a in zip(decl.params, args, strict=True)
    }
    holds = []
    for clause in _clauses(decl, "requires"):
        term = translate(clause.expr, env)
        holds.append(z3.And(term.defined, term.value))
        owed.append((node, clause, holds[-1], dict(env)))
    result, ranges = fresh(f"{attrs[N.NAME]}!n{node}", attrs[N.TYPE])
    out.assumptions += ranges
    for clause in _clauses(decl, "ensures"):
        term = translate(clause.expr, {**env, "result": result})
        out.assumptions.append(z3.Implies(z3.And(*holds, term.defined), term.value))
    return leaves(attrs[N.TYPE], result)


def _clauses(decl: ast.FnDecl | ast.CircuitDecl, kind: str) -> list[ast.Contract]:
    return [c for c in decl.contracts if c.kind == kind]
