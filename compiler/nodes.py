"""The dataflow IR's vocabulary: every node and edge key, and the stage that sets it.

The IR is a `networkx.MultiDiGraph` (DESIGN §4 says DiGraph; `mul(x, x)` needs two edges between
one pair of nodes, which a DiGraph cannot hold). Node ids are ints in creation order, so a
lowering is deterministic and golden-testable.
"""

from __future__ import annotations

import networkx as nx

from circ.lang import types as T

# --- node keys (set by compiler.lower unless noted) -------------------------------------------
OP = "op"  # one of OPS
TYPE = "type"  # circ.lang.types.Type of the value the node produces
SPAN = "span"  # circ.lang.ast.Span of the source that made the node (for errors and traces)
CIRCUIT = "circuit"  # op=circuit: the catalog name from `learned "…"`
DECL = "decl"  # op=circuit|call: the declaration (params and contracts, for traces and proofs)
NAME = "name"  # op=circuit|call: the declared name; op=input: the parameter name
POSITION = "position"  # op=input: the parameter's position in the entry function
VALUE = "value"  # op=const: the Python value (int, bool, nested lists for Seq/Grid)
BUILTIN = "builtin"  # op=builtin: one of BUILTINS
INDEX = "index"  # builtin=proj: the component; builtin=index: the tuple of indices
BATCH = "batch"  # op=circuit, set by passes.batch: k stacked independent calls (args k×m, type a k-tuple)
KERNEL = "kernel"  # op=circuit, set by passes.fuse: the fused kernel (0, 1, …) that computes the node
# the inlined calls the node was made in, outermost first: (function name, Span of its call) for the
# entry (whose Span is its name) and each `fn` inlined below it; traces group by it, DOT clusters by it
FRAME = "frame"

# --- graph keys (graph.graph, set by compiler.lower) ----------------------------------------------
# "entry", "signature", "root": the lowered function, its signature as written, the root file;
# "shown": (source name, node) for the entry's parameters, lets, unnamed calls and `result`, in source
# order, so a counter-model or a trace can speak in the program's own names.

# --- edge keys -------------------------------------------------------------------------------
ARG = "arg"  # the argument position at the consumer

OPS = ("input", "const", "circuit", "call", "builtin", "output")
# op=call: a `fn` with contracts kept whole, known only by its contract; only in graphs lowered for
# verification (`lower(..., keep_contracts=True)`), never run.
# Structural builtins: they move values, never compute on them (computation is learned). What each
# one selects is defined once, in compiler/builtins.py.
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
    # straight from networkx's own adjacency dicts (`_pred`, what `graph.pred` wraps in a view per
    # lookup): `in_edges` made this ~30 µs and the hottest line of compilation, the views ~12 (issue 19)
    edges = sorted(
        (attrs[ARG], source) for source, keyed in graph._pred[node].items() for attrs in keyed.values()
    )
    return [source for _, source in edges]


def topological_order(graph: nx.MultiDiGraph) -> list[int]:
    """The nodes in `nx.topological_sort`'s order (generation by generation, each in graph order),
    from the raw adjacency dicts: networkx's degree views cost ~19 µs a node (issue 19)."""
    indegree = {node: len(preds) for node, preds in graph._pred.items()}
    generation = [node for node, degree in indegree.items() if degree == 0]
    order: list[int] = []
    while generation:
        order += generation
        following = []
        for node in generation:
            for child in graph._adj[node]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    following.append(child)
        generation = following
    if len(order) != len(indegree):
        raise nx.NetworkXUnfeasible("the dataflow graph has a cycle")
    return order


def inputs(graph: nx.MultiDiGraph) -> list[int]:
    """The entry function's parameters, in order."""
    found = [n for n, op in graph.nodes(data=OP) if op == "input"]
    return sorted(found, key=lambda n: graph.nodes[n][POSITION])


def output(graph: nx.MultiDiGraph) -> int:
    return next(n for n, op in graph.nodes(data=OP) if op == "output")


def calls(graph: nx.MultiDiGraph, node: int) -> int:
    """How many calls a circuit node stands for: 1, or k after horizontal batching."""
    return graph.nodes[node].get(BATCH, 1)


def call_types(graph: nx.MultiDiGraph, node: int) -> tuple[tuple[T.Type, ...], T.Type]:
    """The circuit's own signature (argument types, result type), for one call of a batched node."""
    k = calls(graph, node)
    args = tuple(graph.nodes[a][TYPE] for a in args_of(graph, node))
    result = graph.nodes[node][TYPE]
    return args[: len(args) // k], result.items[0] if k > 1 else result


def call_args(graph: nx.MultiDiGraph, node: int) -> list[list[int]]:
    """The argument nodes of each call of a (possibly batched) circuit node."""
    args, k = args_of(graph, node), calls(graph, node)
    m = len(args) // k
    return [args[i * m : (i + 1) * m] for i in range(k)]


def replace_uses(graph: nx.MultiDiGraph, old: int, new: int) -> None:
    """Point every consumer of `old` at `new` instead, keeping argument positions (for passes,
    which call it on their own copy; `old` is left without consumers for DCE to remove)."""
    for _, consumer, key, position in list(graph.out_edges(old, keys=True, data=ARG)):
        graph.remove_edge(old, consumer, key)
        graph.add_edge(new, consumer, **{ARG: position})
