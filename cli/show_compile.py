"""`circ compile --emit graph|passes|kernels`: the dataflow graph, the graph after each pass, and the
generated kernels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx
from rich.console import Group
from rich.markup import escape
from rich.rule import Rule
from rich.table import Table

from circ.compiler import nodes as N
from circ.compiler.dot import label
from circ.compiler.passes import stages

if TYPE_CHECKING:
    from circ.learn.catalog import Catalog


def passes_view(graph: nx.MultiDiGraph) -> Group:
    """The lowered graph, then the graph after each pass, each headed by its node and call counts."""
    parts = []
    for name, g in stages(graph):
        circuits = [n for n, op in g.nodes(data=N.OP) if op == "circuit"]
        calls = sum(N.calls(g, n) for n in circuits)
        kernels = {g.nodes[n][N.KERNEL] for n in circuits if N.KERNEL in g.nodes[n]}
        planned = f", {len(kernels)} kernels" if kernels else ""
        size = f"{g.number_of_nodes()} nodes, {len(circuits)} circuit nodes for {calls} calls"
        title = f"after {name}: {size}{planned}" if name != "lower" else f"lowered: {size}"
        parts += [Rule(title, align="left"), graph_table(g)]
    return Group(*parts)


def kernels_text(planned: nx.MultiDiGraph, catalog: Catalog) -> str:
    """The optimized graph's kernels, specialised to the catalog's circuit sizes (no weights load,
    no torch)."""
    from circ.compiler.triton.codegen import generate, weight_layouts
    from circ.compiler.triton.listing import listing
    from circ.learn.catalog.provider import circuit_config

    names = {planned.nodes[n][N.CIRCUIT] for n, op in planned.nodes(data=N.OP) if op == "circuit"}
    layouts = weight_layouts(planned, {name: circuit_config(catalog, name) for name in sorted(names)})
    return listing(planned, layouts, generate(planned, layouts))


SHOWN_NODES = 2_000  # rows of a graph table: a 10⁵-node graph took rich over ten minutes to lay out


def graph_table(graph: nx.MultiDiGraph) -> Table:
    """One row per node (the first `SHOWN_NODES` in topological order): id, operation, type,
    argument nodes and source position."""
    counts = {op: sum(1 for _, o in graph.nodes(data=N.OP) if o == op) for op in N.OPS}
    summary = ", ".join(f"{n} {op}" for op, n in counts.items() if n)
    title = f"{escape(graph.graph.get('signature', ''))}  [dim]({summary})[/]"
    table = Table(title=title, title_justify="left")
    for column in ("node", "op", "type", "args", "source"):
        table.add_column(column)
    order = N.topological_order(graph)
    if len(order) > SHOWN_NODES:
        more = len(order) - SHOWN_NODES
        table.caption = f"… {more:,} more nodes (--emit dot writes every node)"
    for node in order[:SHOWN_NODES]:
        attrs = graph.nodes[node]
        args = ", ".join(f"n{a}" for a in N.args_of(graph, node))
        span = attrs[N.SPAN]
        where = f"{span.path}:{span.line}:{span.column}"
        table.add_row(f"n{node}", escape(label(graph, node)), escape(str(attrs[N.TYPE])), args, escape(where))
    return table
