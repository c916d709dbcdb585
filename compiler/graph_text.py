"""A stable plain-text form of a dataflow graph: one line per node, for golden tests and diffs."""

from __future__ import annotations

import networkx as nx

from circ.compiler import nodes as N
from circ.compiler.dot import label


def to_text(graph: nx.MultiDiGraph) -> str:
    lines = [f"# {graph.graph.get('signature', '')}"]
    for node in sorted(graph.nodes):
        attrs = graph.nodes[node]
        args = ", ".join(f"n{a}" for a in N.args_of(graph, node))
        span = attrs[N.SPAN]
        where = f"{span.line}:{span.column}"
        lines.append(
            f"n{node} = {label(graph, node)} : {attrs[N.TYPE]}"
            + (f" <- {args}" if args else "")
            + f"  @{where}"
        )
    return "\n".join(lines) + "\n"
