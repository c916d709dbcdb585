"""Dead-code elimination: drop every node the output does not depend on.

Inputs stay even when unused, because they are the entry function's parameters (their positions
number the input tensors). Earlier passes leave dead nodes behind on purpose and rely on this one.
"""

from __future__ import annotations

import networkx as nx

from circ.compiler import nodes as N
from circ.compiler.graph_copy import copy_graph


def dce(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    out = N.output(graph)
    live = nx.ancestors(graph, out) | {out} | set(N.inputs(graph))
    return copy_graph(graph, live)
