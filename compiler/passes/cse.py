"""Common-subexpression elimination: identical nodes on identical arguments are computed once.

Circuits are pure functions of their inputs, so two calls of one circuit on the same argument nodes
give the same tokens on every row; `compose` and user functions inlined twice produce such pairs.
The first node (in topological order) survives and keeps its span.
"""

from __future__ import annotations

from collections.abc import Hashable

import networkx as nx

from circ.compiler import nodes as N
from circ.compiler.graph_copy import copy_graph


def cse(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    g = copy_graph(graph)
    seen: dict[Hashable, int] = {}
    for node in N.topological_order(g):
        key = _key(g, node)
        if key is None:
            continue
        if key in seen:
            N.replace_uses(g, node, seen[key])
            g.remove_node(node)
        else:
            seen[key] = node
    return g


def _key(g: nx.MultiDiGraph, node: int) -> Hashable | None:
    """What determines the node's value; None for nodes that must stay distinct (inputs, output)."""
    attrs = g.nodes[node]
    op = attrs[N.OP]
    args = tuple(N.args_of(g, node))
    if op == "const":
        return ("const", attrs[N.TYPE], repr(attrs[N.VALUE]))
    if op == "circuit":
        return ("circuit", attrs[N.CIRCUIT], attrs[N.TYPE], N.calls(g, node), args)
    if op == "builtin":
        return ("builtin", attrs[N.BUILTIN], attrs[N.TYPE], attrs.get(N.INDEX), args)
    return None
