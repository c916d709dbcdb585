"""Copies of dataflow graphs for the passes, which are pure: each copies the graph it changes.

`nx.MultiDiGraph.copy()` re-adds every node and edge through the public API (a view object and a
key lookup per edge): at 10⁵ circuit calls the six copies of one compile were a third of its time
(issue 19). This copies the adjacency dicts directly — the same result as `copy()` (a new attribute
dict per node, per edge, and for the graph; the values shared), a successor's and its
predecessor's entry one dict, as networkx keeps them.
"""

from __future__ import annotations

from collections.abc import Collection

import networkx as nx


def copy_graph(graph: nx.MultiDiGraph, keep: Collection[int] | None = None) -> nx.MultiDiGraph:
    """A copy of `graph`, or of the subgraph on the nodes in `keep` (a set), in the graph's order."""
    new = nx.MultiDiGraph()
    new.graph.update(graph.graph)
    nodes = graph._node if keep is None else {n: d for n, d in graph._node.items() if n in keep}
    succ: dict[int, dict[int, dict[int, dict]]] = {}
    pred: dict[int, dict[int, dict[int, dict]]] = {n: {} for n in nodes}
    for u in nodes:
        out: dict[int, dict[int, dict]] = {}
        for v, keyed in graph._adj[u].items():
            if keep is not None and v not in keep:
                continue
            edges = {k: dict(data) for k, data in keyed.items()}
            out[v] = edges
            pred[v][u] = edges
        succ[u] = out
    for v in nodes:  # networkx orders each node's predecessors by when their edges were added
        pred[v] = {u: pred[v][u] for u in graph._pred[v] if u in pred[v]}
    new._node = {n: dict(d) for n, d in nodes.items()}
    new._adj = succ  # networkx's descriptor sets `_succ` too and drops cached views
    new._pred = pred
    return new
