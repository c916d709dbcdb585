"""Constant folding of the structural builtins.

A builtin whose arguments are all constants becomes a constant, and a builtin that takes apart what
another just built (`proj` of a `tuple`, `index` of a `seq` or `grid`: any selection whose leaves,
followed through its argument's own selection, are exactly one existing node's) is replaced by that
node. `select` on a constant condition, or between equal branches, is replaced by the branch. `map`
after `zip_with` lowers to exactly such index-of-seq hops, so after this pass circuits feed circuits
directly, which is what batching and fusion look for. Nodes left without consumers are removed by
`dce`.
"""

from __future__ import annotations

import networkx as nx

from circ.compiler import nodes as N
from circ.compiler.builtins import SELECT, pick, selection
from circ.compiler.graph_copy import copy_graph
from circ.lang import layout
from circ.lang import types as T


def fold(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    g = copy_graph(graph)
    for node in N.topological_order(g):
        attrs = g.nodes[node]
        if attrs[N.OP] != "builtin":
            continue
        args = N.args_of(g, node)
        part = _select_part(g, args) if attrs[N.BUILTIN] == SELECT else _selected_node(g, node, args)
        if part is not None:
            N.replace_uses(g, node, part)
        elif all(g.nodes[a][N.OP] == "const" for a in args):
            value = _evaluate(g, node, args)
            g.remove_edges_from(list(g.in_edges(node, keys=True)))
            for key in (N.BUILTIN, N.INDEX):
                attrs.pop(key, None)
            attrs.update({N.OP: "const", N.VALUE: value})
    return g


def _select_part(g: nx.MultiDiGraph, args: list[int]) -> int | None:
    cond, then, orelse = args
    if g.nodes[cond][N.OP] == "const":
        return then if g.nodes[cond][N.VALUE] else orelse
    return then if then == orelse else None


def _selected_node(g: nx.MultiDiGraph, node: int, args: list[int]) -> int | None:
    """The existing node this selection passes through whole, if any (one hop through its argument)."""
    leaves = selection(g.nodes[node], [g.nodes[a][N.TYPE] for a in args])
    (base,) = args if len(args) == 1 else (None,)
    if base is None or g.nodes[base][N.OP] != "builtin" or g.nodes[base][N.BUILTIN] == SELECT:
        return None
    items = N.args_of(g, base)
    through = pick(leaves, [selection(g.nodes[base], [g.nodes[a][N.TYPE] for a in items])])
    sources = {a for a, _ in through}
    if len(sources) != 1:
        return None
    (source,) = sources
    whole = [(source, j) for j in range(T.width(g.nodes[items[source]][N.TYPE]))]
    return items[source] if list(through) == whole else None


def _evaluate(g: nx.MultiDiGraph, node: int, args: list[int]) -> object:
    attrs = g.nodes[node]
    types = [g.nodes[a][N.TYPE] for a in args]
    flat = [layout.flatten(t, g.nodes[a][N.VALUE]) for t, a in zip(types, args, strict=True)]
    if attrs[N.BUILTIN] == SELECT:
        cond, then, orelse = flat
        return layout.unflatten(attrs[N.TYPE], then if cond[0] else orelse)
    return layout.unflatten(attrs[N.TYPE], pick(selection(attrs, types), flat))
