"""Deciding what Z3 leaves open, on a small finite domain: run the function on every input with each
circuit (and each `fn` with contracts) known only by its contract, and check the goals row by row.

This is the same model of the program the proofs use — the lowered graph (`compiler.lower` with
`keep_contracts=True`), structural builtins by `compiler.builtins`, `if` by `compiler.demand` —
evaluated on numpy columns instead of Z3 terms. An opaque call's result on a row is the one value of
its type its `ensures` allows there; where its contract allows several (or none) and the output
needs the call, nothing is decided. So a goal true on every row is proved, and a row where it fails
is a genuine counter-model: every call in it answers as its contract says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from circ.compiler import nodes as N
from circ.compiler.builtins import SELECT, pick, select_leaves, selection
from circ.compiler.demand import Algebra, demand
from circ.compiler.lower import lower
from circ.lang import layout
from circ.lang import types as T
from circ.lang.check import Checked
from circ.lang.scope import Symbol
from circ.verify import vectorized
from circ.verify.obligations import Goal

DECIDE_LIMIT = 10**6  # inputs of the function enumerated at most
RESULT_LIMIT = 1024  # values of a call's result type tried per row at most

NUMPY: Algebra[np.ndarray] = Algebra(np.bool_(True), np.logical_and, np.logical_or, np.logical_not)


@dataclass(frozen=True)
class Decision:
    status: str  # "proved" | "refuted"
    rows: int  # inputs checked
    counterexample: tuple[tuple[str, str], ...] = ()  # refuted: the parameters, in circ syntax


def decide(checked: Checked, function: Symbol, goals: list[Goal]) -> list[Decision] | None:
    """A decision per goal, or None when the domain is too big or a contract leaves a needed call's
    answer open."""
    params = list(function.signature.params)
    size = math.prod(T.domain_size(t) for _, t in params)
    if size > DECIDE_LIMIT:
        return None
    graph = lower(checked, function, keep_contracts=True)
    try:
        run = _Run(graph, params, size)
    except _Undecided:
        return None
    names = [name for name, _ in params]
    env = {name: run.value(n) for name, n in zip(names, N.inputs(graph), strict=True)}
    promised = np.ones(size, dtype=bool)
    for clause in (c for c in function.decl.contracts if c.kind == "requires"):
        got = vectorized.evaluate(clause.expr, env, size)
        promised &= got.defined & _bool(got.value)
    result = run.value(N.output(graph))
    decisions = []
    for goal in goals:
        if goal.kind == "ensures":
            rows, scope = promised, {**env, "result": result}
        else:
            if goal.node is None:
                return None
            rows = promised & run.needed(goal.node)
            decl = graph.nodes[goal.node][N.DECL]
            args = N.args_of(graph, goal.node)
            scope = {p.name: run.value(a) for p, a in zip(decl.params, args, strict=True)}
        got = vectorized.evaluate(goal.clause.expr, scope, size)
        broken = np.flatnonzero(rows & ~(got.defined & _bool(got.value)))
        if broken.size:
            row = int(broken[0])
            shown = tuple(
                (name, layout.format_value(run.python(n, row)))
                for name, n in zip(names, N.inputs(graph), strict=True)
            )
            decisions.append(Decision("refuted", size, shown))
        else:
            decisions.append(Decision("proved", size))
    return decisions


class _Undecided(Exception):
    pass


class _Run:
    """Every node's leaf columns over the whole input domain, opaque calls answered by contract."""

    def __init__(self, graph: nx.MultiDiGraph, params: list[tuple[str, T.Type]], rows: int) -> None:
        self.graph, self.rows = graph, rows
        self.columns: dict[int, list[np.ndarray]] = {}
        self.open: dict[int, np.ndarray] = {}  # call node → rows where its contract did not fix it
        leaves = [leaf for _, t in params for leaf in T.parts(t)]
        index, digits = np.arange(rows, dtype=np.int64), []
        for leaf in reversed(leaves):  # the last leaf varies fastest, as `runtime.values` enumerates
            digits.append(index % leaf.size + leaf.low)
            index = index // leaf.size
        digits.reverse()
        at = 0
        for node in nx.topological_sort(graph):
            attrs = graph.nodes[node]
            op, t = attrs[N.OP], attrs[N.TYPE]
            args = N.args_of(graph, node)
            if op == "input":
                width = T.width(t)
                self.columns[node], at = digits[at : at + width], at + width
            elif op == "const":
                self.columns[node] = [
                    np.full(rows, v, dtype=np.int64) for v in layout.flatten(t, attrs[N.VALUE])
                ]
            elif op == "builtin" and attrs[N.BUILTIN] == SELECT:
                cond, then, orelse = (self.columns[a] for a in args)
                self.columns[node] = select_leaves(cond[0].astype(bool), then, orelse, np.where)
            elif op == "builtin":
                types = [graph.nodes[a][N.TYPE] for a in args]
                self.columns[node] = pick(selection(attrs, types), [self.columns[a] for a in args])
            elif op in ("circuit", "call"):
                self.columns[node] = self._by_contract(node)
            else:
                self.columns[node] = self.columns[args[0]]
        self._needed = demand(graph, NUMPY, lambda n: self.columns[n][0].astype(bool))
        for node, open_rows in self.open.items():
            if (open_rows & self.needed(node)).any():
                raise _Undecided

    def needed(self, node: int) -> np.ndarray:
        return np.broadcast_to(self._needed.get(node, np.bool_(False)), (self.rows,))

    def value(self, node: int) -> Any:
        t = self.graph.nodes[node][N.TYPE]
        return layout.structure(
            t, self.columns[node], lambda leaf, col: col.astype(bool) if isinstance(leaf, T.BoolT) else col
        )

    def python(self, node: int, row: int) -> Any:
        return layout.unflatten(self.graph.nodes[node][N.TYPE], [int(c[row]) for c in self.columns[node]])

    def _by_contract(self, node: int) -> list[np.ndarray]:
        attrs = self.graph.nodes[node]
        decl, t = attrs[N.DECL], attrs[N.TYPE]
        if T.domain_size(t) > RESULT_LIMIT:
            raise _Undecided
        args = [self.value(a) for a in N.args_of(self.graph, node)]
        candidates = [layout.flatten(t, v) for v in layout.values(t)]
        allowed = np.zeros((len(candidates), self.rows), dtype=bool)
        for i, flat in enumerate(candidates):
            cols = [np.full(self.rows, v, dtype=np.int64) for v in flat]
            result = layout.structure(
                t, cols, lambda leaf, col: col.astype(bool) if isinstance(leaf, T.BoolT) else col
            )
            allowed[i] = vectorized.satisfied(decl, args, result, self.rows) != 0
        count = allowed.sum(axis=0)
        self.open[node] = count != 1
        chosen = allowed.argmax(axis=0)
        table = np.array(candidates, dtype=np.int64)  # [candidates, leaves]
        return [table[chosen, j] for j in range(table.shape[1])]


def _bool(x: np.ndarray) -> np.ndarray:
    return x.astype(bool) if x.dtype != bool else x
