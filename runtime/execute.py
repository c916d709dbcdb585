"""The one execution loop: a dataflow graph run on a batch of rows, whatever computes the circuits.

Every value is a LongTensor `[rows, leaves]` of raw scalar values in token order (`circ.lang.layout`),
so inputs and constants are columns and the structural builtins are column slices
(`compiler.builtins`: the same selections folding, code generation and proofs use). A backend supplies
only circuit calls (`Backend.prepare` → `Prepared`): the torch backend runs each circuit node's model,
the Triton backend runs a fused chain of calls as one kernel. All rows pass through each node at once
(no per-row Python), in chunks of `backend.chunk_rows` that bound memory; a value is freed as soon as
nothing left needs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import networkx as nx
import torch

from circ.compiler import nodes as N
from circ.compiler.builtins import SELECT, runs, selection
from circ.compiler.demand import ALWAYS, Algebra, conditions, demand
from circ.lang import layout


@dataclass
class Execution:
    """Values of every node (when kept) or just the output, plus circuit confidences."""

    output: torch.Tensor  # [rows, width(output type)]
    values: dict[int, torch.Tensor] = field(default_factory=dict)  # node → [rows, width]
    # circuit node → [rows]; a batched node's is its least confident call's (what a row reports)
    confidence: dict[int, torch.Tensor] = field(default_factory=dict)
    # circuit node → [rows] bool, for calls the output needs only on some rows (an `if` branch);
    # a call absent here is needed on every row
    needed: dict[int, torch.Tensor] = field(default_factory=dict)

    def row_confidence(self) -> torch.Tensor | None:
        """Per row, the least confidence of the calls that row's answer needs (an untaken branch's
        calls do not count); None when no circuit ran."""
        if not self.confidence:
            return None
        parts = [
            torch.where(self.needed[n], c, torch.ones_like(c)) if n in self.needed else c
            for n, c in self.confidence.items()
        ]
        return torch.stack(parts).min(dim=0).values


class Prepared(Protocol):
    """A backend made ready for one graph (circuits loaded, kernels built)."""

    graph: nx.MultiDiGraph  # what runs: the given graph, or a copy carrying the backend's plan

    def reads(self, node: int) -> Sequence[int]:
        """The nodes whose values the call of circuit `node` needs (its arguments, or a fused kernel's
        inputs); the loop computes them first and keeps them until then."""
        ...

    def call(self, node: int, values: list[torch.Tensor], rows: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Circuit `node` on the values of `reads(node)` → its value [rows, width], confidence [rows]."""
        ...


class Backend(Protocol):
    device: torch.device
    chunk_rows: int

    def prepare(self, graph: nx.MultiDiGraph) -> Prepared: ...


@torch.no_grad()
def execute(
    graph: nx.MultiDiGraph, inputs: list[torch.Tensor], backend: Backend, keep: bool = False
) -> Execution:
    """Run `graph` on `inputs` (one `[rows, width]` tensor per entry parameter, in order); `keep`
    keeps every node's value (for traces)."""
    rows = inputs[0].shape[0] if inputs else 1
    step = backend.chunk_rows
    chunks = ([x[start : start + step] for x in inputs] for start in range(0, rows, step))
    done = execute_chunks(graph, chunks, backend, keep, rows=None if inputs else 1)
    return concat_executions([execution for _, execution in done])


def execute_chunks(
    graph: nx.MultiDiGraph,
    chunks: Iterable[list[torch.Tensor]],
    backend: Backend,
    keep: bool = False,
    rows: int | None = None,
) -> Iterator[tuple[list[torch.Tensor], Execution]]:
    """`graph` on each chunk of rows as it comes (the backend prepared once), with the chunk: a caller
    that keeps only what it shows or aggregates runs any number of rows in the memory of one chunk.
    `rows`: the rows of a chunk without inputs (a program of no parameters runs once)."""
    prepared = backend.prepare(graph)
    plan = _Plan(prepared, backend.device, keep)
    for chunk in chunks:
        with torch.no_grad():  # not around the yield: grad mode would leak into the caller's code
            execution = plan.run(chunk, chunk[0].shape[0] if chunk else rows or 1)
        yield chunk, execution


def concat_executions(parts: list[Execution]) -> Execution:
    """The executions of consecutive row chunks, as one (chunks bound memory, not results)."""
    if len(parts) == 1:
        return parts[0]
    return Execution(
        output=torch.cat([p.output for p in parts]),
        values={n: torch.cat([p.values[n] for p in parts]) for n in parts[0].values},
        confidence={n: torch.cat([p.confidence[n] for p in parts]) for n in parts[0].confidence},
        needed={n: torch.cat([p.needed[n] for p in parts]) for n in parts[0].needed},
    )


class _Plan:
    """What does not change between chunks: the order, what each node reads, when each value dies,
    every builtin's column ranges and every constant's columns."""

    def __init__(self, prepared: Prepared, device: torch.device, keep: bool) -> None:
        g = self.graph = prepared.graph
        self.prepared, self.device, self.keep = prepared, device, keep
        self.deps = {
            n: list(prepared.reads(n)) if op == "circuit" else N.args_of(g, n) for n, op in g.nodes(data=N.OP)
        }
        self.order = _order(g, self.deps, keep)
        self.uses: dict[int, int] = {n: 0 for n in self.order}
        for n in self.order:
            for d in self.deps[n]:
                self.uses[d] += 1
        self.params = {n: i for i, n in enumerate(N.inputs(g))}
        # the `if` conditions some call's demand depends on: kept to the end of a chunk (one column each)
        self.conditional = {
            n for n, f in conditions(g).items() if f != ALWAYS and g.nodes[n][N.OP] == "circuit"
        }
        selects = [n for n, a in g.nodes(data=True) if a[N.OP] == "builtin" and a[N.BUILTIN] == SELECT]
        self.pinned = {N.args_of(g, n)[0] for n in selects} if self.conditional else set()
        self.output = N.output(g)
        self.columns: dict[int, list[tuple[int, int, int]]] = {}
        self.constants: dict[int, torch.Tensor] = {}
        for n in self.order:
            attrs = g.nodes[n]
            if attrs[N.OP] == "const":
                flat = layout.flatten(attrs[N.TYPE], attrs[N.VALUE])
                self.constants[n] = torch.tensor(flat, dtype=torch.long, device=device)
            elif attrs[N.OP] == "builtin" and attrs[N.BUILTIN] != SELECT:
                self.columns[n] = runs(selection(attrs, [g.nodes[a][N.TYPE] for a in self.deps[n]]))
            elif attrs[N.OP] == "call":
                raise ValueError("a graph lowered for verification (with `call` nodes) cannot run")

    def run(self, inputs: list[torch.Tensor], rows: int) -> Execution:
        g, values, confidence = self.graph, {}, {}
        left = dict(self.uses)
        for node in self.order:
            attrs = g.nodes[node]
            op = attrs[N.OP]
            args = [values[d] for d in self.deps[node]]
            if op == "input":
                value = inputs[self.params[node]].to(self.device, torch.long)
            elif op == "const":
                value = self.constants[node].expand(rows, -1)
            elif op == "circuit":
                value, confidence[node] = self.prepared.call(node, args, rows)
            elif op == "builtin" and attrs[N.BUILTIN] == SELECT:
                cond, then, orelse = args
                value = torch.where(cond.bool(), then, orelse)
            elif op == "builtin":
                value = _gather(args, self.columns[node])
            else:  # output
                value = args[0]
            values[node] = value
            if not self.keep:
                for d in self.deps[node]:
                    left[d] -= 1
                    if left[d] == 0 and d != self.output and d not in self.pinned:
                        del values[d]
        needed = {}
        if self.conditional:
            masks = demand(g, TORCH, lambda n: values[n][:, 0].bool())
            false = torch.zeros(rows, dtype=torch.bool, device=self.device)
            needed = {
                n: masks.get(n, false).expand(rows).clone() for n in self.conditional if n in confidence
            }
        return Execution(values[self.output], values if self.keep else {}, confidence, needed)


TORCH: Algebra[torch.Tensor] = Algebra(
    torch.tensor(True), torch.logical_and, torch.logical_or, torch.logical_not
)


def _gather(args: list[torch.Tensor], columns: list[tuple[int, int, int]]) -> torch.Tensor:
    if len(columns) == 1:
        a, start, stop = columns[0]
        return args[a][:, start:stop]
    return torch.cat([args[a][:, start:stop] for a, start, stop in columns], dim=1)


def _order(g: nx.MultiDiGraph, deps: dict[int, list[int]], keep: bool) -> list[int]:
    """The nodes to compute (everything when keeping values, else the output, every circuit call —
    each reports a confidence, even one inside a fused kernel whose value nothing reads — and what they
    need, plus the inputs), dependencies first, ties by node id so a run is deterministic."""
    if keep:
        wanted = set(g.nodes)
    else:
        wanted = set(N.inputs(g))
        todo = [N.output(g), *(n for n, op in g.nodes(data=N.OP) if op == "circuit")]
        while todo:
            node = todo.pop()
            if node not in wanted:
                wanted.add(node)
                todo.extend(deps[node])
    dag = nx.DiGraph()  # networkx raises if a backend's reads made the graph cyclic
    dag.add_nodes_from(wanted)
    dag.add_edges_from((d, n) for n in wanted for d in deps[n])
    return list(nx.lexicographical_topological_sort(dag))
