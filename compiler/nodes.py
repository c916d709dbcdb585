"""The dataflow IR's vocabulary: every node and edge key, and the stage that sets it.

The IR is a `networkx.MultiDiGraph` (DESIGN §4 says DiGraph; `mul(x, x)` needs two edges between
one pair of nodes, which a DiGraph cannot hold). Node ids are ints in creation order, so a
lowering is deterministic and golden-testable.
"""

from __future__ import annotations

import networkx as nx

# --- node keys (set by compiler.lower unless noted) -------------------------------------------
OP = "op"  # one of OPS
TYPE = "type"  # circ.lang.types.Type of the value the node produces
SPAN = "span"  # circ.lang.ast.Span of the source that made the node (for errors and traces)
CIRCUIT = "circuit"  # op=circuit: the catalog name from `learned "…"`
DECL = "decl"  # op=circuit: the circuit's declaration (params and contracts, for traces and proofs)
NAME = "name"  # op=circuit: the declared circuit name; op=input: the parameter name
POSITION = "position"  # op=input: the parameter's position in the entry function
VALUE = "value"  # op=const: the Python value (int, bool, nested lists for Seq/Grid)
BUILTIN = "builtin"  # op=builtin: one of BUILTINS
INDEX = "index"  # builtin=proj: the component; builtin=index: the tuple of indices

# --- edge keys -------------------------------------------------------------------------------
ARG = "arg"  # the argument position at the consumer

OPS = ("input", "const", "circuit", "builtin", "output")
# Structural builtins: they move values, never compute on them (computation is learned).
BUILTINS = (
    "tuple",  # (a, b, …)
    "proj",  # t.k
    "seq",  # [a, b, …] from element values
    "grid",  # a Grid from its h·w cells, row-major
    "index",  # xs[i] / g[r, c] / g[r] with static indices
    "select",  # if c then a else b (both branches are computed: the graph is pure dataflow)
)


def args_of(graph: nx.MultiDiGraph, node: int) -> list[int]:
    """A node's argument nodes, in argument order."""
    edges = sorted(graph.in_edges(node, data=ARG), key=lambda e: e[2])
    return [source for source, _, _ in edges]


def inputs(graph: nx.MultiDiGraph) -> list[int]:
    """The entry function's parameters, in order."""
    found = [n for n, op in graph.nodes(data=OP) if op == "input"]
    return sorted(found, key=lambda n: graph.nodes[n][POSITION])


def output(graph: nx.MultiDiGraph) -> int:
    return next(n for n, op in graph.nodes(data=OP) if op == "output")
