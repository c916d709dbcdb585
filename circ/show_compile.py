"""`circ compile --emit passes|kernels`: the graph after each pass, and the generated kernels."""

from __future__ import annotations

import networkx as nx
from rich.console import Group
from rich.rule import Rule

from circ.compiler import nodes as N
from circ.compiler.passes import optimize, stages
from circ.runtime.catalog_provider import CatalogProvider
from circ.show import graph_table


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


def kernels_text(graph: nx.MultiDiGraph, provider: CatalogProvider) -> str:
    """The optimized graph's kernels, specialised to the catalog's circuit sizes (no weights load)."""
    from circ.compiler.triton.codegen import generate, weight_layouts
    from circ.compiler.triton.listing import listing

    planned = optimize(graph)
    names = {planned.nodes[n][N.CIRCUIT] for n, op in planned.nodes(data=N.OP) if op == "circuit"}
    layouts = weight_layouts(planned, {name: provider.config(name) for name in sorted(names)})
    return listing(planned, layouts, generate(planned, layouts))
