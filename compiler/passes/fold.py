"""Constant folding of the structural builtins.

A builtin whose arguments are all constants becomes a constant, and a builtin that takes apart what
another just built (`proj` of a `tuple`, `index` of a `seq` or `grid`, `select` on a constant
condition or between equal branches) is replaced by the part itself. `map` after `zip_with` lowers to
exactly such index-of-seq hops, so after this pass circuits feed circuits directly, which is what
batching and fusion look for. Nodes left without consumers are removed by `dce`.
"""

from __future__ import annotations

import networkx as nx

from circ.compiler import nodes as N


def fold(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    g = graph.copy()
    for node in list(nx.topological_sort(g)):
        attrs = g.nodes[node]
        if attrs[N.OP] != "builtin":
            continue
        args = N.args_of(g, node)
        part = _part(g, attrs, args)
        if part is not None:
            N.replace_uses(g, node, part)
        elif all(g.nodes[a][N.OP] == "const" for a in args):
            value = _evaluate(attrs, [g.nodes[a][N.VALUE] for a in args])
            g.remove_edges_from(list(g.in_edges(node, keys=True)))
            for key in (N.BUILTIN, N.INDEX):
                attrs.pop(key, None)
            attrs.update({N.OP: "const", N.VALUE: value})
    return g


def _part(g: nx.MultiDiGraph, attrs: dict, args: list[int]) -> int | None:
    """The existing node this builtin just passes through, if any."""
    name = attrs[N.BUILTIN]
    if name == "select":
        cond, then, orelse = args
        if g.nodes[cond][N.OP] == "const":
            return then if g.nodes[cond][N.VALUE] else orelse
        return then if then == orelse else None
    if name not in ("proj", "index"):
        return None
    (base,) = args
    built = g.nodes[base].get(N.BUILTIN)
    items = N.args_of(g, base)
    if name == "proj" and built == "tuple":
        return items[attrs[N.INDEX]]
    index = attrs.get(N.INDEX)
    if name == "index" and built == "seq":
        return items[index[0]]
    if name == "index" and built == "grid" and len(index) == 2:
        return items[index[0] * g.nodes[base][N.TYPE].w + index[1]]
    return None


def _evaluate(attrs: dict, values: list[object]) -> object:
    name = attrs[N.BUILTIN]
    if name == "tuple":
        return tuple(values)
    if name == "seq":
        return list(values)
    if name == "grid":
        w = attrs[N.TYPE].w
        return [list(values[r * w : (r + 1) * w]) for r in range(attrs[N.TYPE].h)]
    if name == "select":
        cond, then, orelse = values
        return then if cond else orelse
    (value,) = values
    if name == "proj":
        return value[attrs[N.INDEX]]
    index = attrs[N.INDEX]
    return value[index[0]] if len(index) == 1 else value[index[0]][index[1]]
