"""Traces: for one row, what each circuit received, answered, how sure it was, and whether the
answer meets the circuit's `ensures` — a reasoning trace a reader can check step by step."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from circ.compiler import nodes as N
from circ.compiler.demand import Algebra, demand
from circ.compiler.dot import label
from circ.lang import ast
from circ.lang.evaluate import requires_hold, satisfied
from circ.runtime.execute import Execution
from circ.runtime.values import from_batch


@dataclass(frozen=True)
class Step:
    node: int
    what: str  # "input x", "add [mod97.add]", "output"
    span: ast.Span
    inputs: tuple[object, ...]
    output: object
    confidence: float | None  # circuits only: probability of the decoded output
    ensures: bool | None  # circuits only: output meets the declared `ensures`; None: nothing to check
    requires: bool | None = None  # circuits only: the arguments meet its `requires`; None: it has none
    taken: bool = True  # False: only an untaken `if` branch uses it (its answer does not matter)


def trace_row(graph: nx.MultiDiGraph, execution: Execution, row: int) -> list[Step]:
    """The steps of one row, in execution order: inputs, every circuit call, the output."""
    if not execution.values:
        raise ValueError("run the graph with keep=True to trace it")

    def value(node: int) -> object:
        return from_batch(graph.nodes[node][N.TYPE], execution.values[node][row : row + 1])[0]

    truth = Algebra(True, lambda a, b: a and b, lambda a, b: a or b, lambda a: not a)
    needed = demand(graph, truth, lambda n: bool(execution.values[n][row, 0]))
    steps = []
    for node in nx.topological_sort(graph):
        attrs = graph.nodes[node]
        if attrs[N.OP] not in ("input", "circuit", "output"):
            continue
        args = tuple(value(a) for a in N.args_of(graph, node))
        output = value(node)
        confidence = ensures = requires = None
        if attrs[N.OP] == "circuit":
            confidence = float(execution.confidence[node][row])
            ensures = satisfied(attrs[N.DECL], list(args), output)
            requires = requires_hold(attrs[N.DECL], list(args))
        taken = attrs[N.OP] != "circuit" or bool(needed.get(node, False))
        what = label(graph, node)
        steps.append(Step(node, what, attrs[N.SPAN], args, output, confidence, ensures, requires, taken))
    return steps
