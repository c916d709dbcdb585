"""Horizontal batching: independent calls of one circuit at one depth become one batched call.

A circuit's depth is the number of circuits on the longest path to it from the inputs. Two calls at
the same depth cannot depend on each other, so `map(f, xs)` over six elements (six calls at one
depth) becomes one node that runs `f` once over a 6×-taller batch: one model call instead of six.
The batched node takes the k calls' arguments in order (k×m edges), produces the k-tuple of their
results (`N.BATCH` = k), and a `proj` per call hands each result to that call's consumers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable

import networkx as nx

from circ.compiler import nodes as N
from circ.compiler.demand import conditions
from circ.compiler.graph_copy import copy_graph
from circ.lang import types as T


def batch(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    g = copy_graph(graph)
    groups: dict[Hashable, list[int]] = defaultdict(list)
    needed = conditions(g)  # calls needed under different `if` conditions stay apart (their confidences)
    for node, depth in _depths(g).items():
        attrs = g.nodes[node]
        if attrs[N.OP] == "circuit" and N.calls(g, node) == 1:
            arg_types = tuple(g.nodes[a][N.TYPE] for a in N.args_of(g, node))
            groups[(depth, attrs[N.CIRCUIT], arg_types, attrs[N.TYPE], needed.get(node))].append(node)
    fresh = max(g.nodes, default=-1) + 1
    for members in groups.values():
        if len(members) < 2:
            continue
        first = g.nodes[members[0]]
        attrs = {**first, N.TYPE: T.TupleT((first[N.TYPE],) * len(members)), N.BATCH: len(members)}
        batched, fresh = fresh, fresh + 1
        g.add_node(batched, **attrs)
        position = 0
        for i, member in enumerate(members):
            for a in N.args_of(g, member):
                g.add_edge(a, batched, **{N.ARG: position})
                position += 1
            part, fresh = fresh, fresh + 1
            g.add_node(
                part,
                **{N.OP: "builtin", N.BUILTIN: "proj", N.INDEX: i, N.TYPE: first[N.TYPE]},
                **{N.SPAN: g.nodes[member][N.SPAN]},
            )
            g.add_edge(batched, part, **{N.ARG: 0})
            N.replace_uses(g, member, part)
            g.remove_node(member)
    return g


def _depths(g: nx.MultiDiGraph) -> dict[int, int]:
    depth: dict[int, int] = {}
    for node in N.topological_order(g):
        below = max((depth[a] for a in N.args_of(g, node)), default=0)
        depth[node] = below + (g.nodes[node][N.OP] == "circuit")
    return depth
