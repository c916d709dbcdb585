"""Lowering: inlining, combinator unrolling, and golden graphs of the examples."""

from __future__ import annotations

import itertools
from collections import Counter

import networkx as nx
import pytest

from circ.compiler import nodes as N
from circ.compiler.lower import lower
from circ.lang import types as T
from circ.lang.check import check
from circ.lang.diagnostics import CircError
from circ.lang.modules import load, load_text

from support import assert_golden, example_files, to_text

PRELUDE = """
circuit inc(c: Color) -> Color learned "t.inc";
circuit plus(a: Color, b: Color) -> Color learned "t.plus";
circuit flip(g: Grid[2, 2]) -> Grid[2, 2] learned "t.flip";
"""


def graph_of(body: str, entry: str = "main") -> nx.MultiDiGraph:
    return lower(check(load_text(PRELUDE + body, "t.circ")), entry)


def ops(graph: nx.MultiDiGraph) -> Counter:
    return Counter(
        attrs[N.CIRCUIT] if attrs[N.OP] == "circuit" else attrs.get(N.BUILTIN, attrs[N.OP])
        for _, attrs in graph.nodes(data=True)
    )


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_golden_graph(path, in_examples) -> None:
    graph = lower(check(load(path.name)))
    assert nx.is_directed_acyclic_graph(graph)
    assert_golden(f"{path.stem}.graph", to_text(graph))


def test_every_node_has_the_design_attributes(in_examples) -> None:
    graph = lower(check(load("combinators.circ")))
    for node, attrs in graph.nodes(data=True):
        assert attrs[N.OP] in N.OPS and attrs[N.SPAN].line > 0
        assert isinstance(attrs[N.TYPE], T.SeqT | T.GridT | T.TupleT | T.ScalarT)
        if attrs[N.OP] == "circuit":
            assert attrs[N.CIRCUIT].startswith("color.")
        if attrs[N.OP] == "builtin":
            assert attrs[N.BUILTIN] in N.BUILTINS
        positions = sorted(position for _, _, position in graph.in_edges(node, data=N.ARG))
        assert positions == list(range(graph.in_degree(node))), "arguments are numbered 0..k-1"


def test_map_over_seq_of_six_becomes_six_circuit_nodes() -> None:
    graph = graph_of("fn main(xs: Seq[Color, 6]) -> Seq[Color, 6] { map(inc, xs) }")
    counts = ops(graph)
    assert counts["t.inc"] == 6 and counts["index"] == 6 and counts["seq"] == 1
    seq = N.args_of(graph, N.output(graph))[0]
    indices = [graph.nodes[N.args_of(graph, call)[0]][N.INDEX] for call in N.args_of(graph, seq)]
    assert indices == [(i,) for i in range(6)], "the rebuilt Seq keeps element order"


def test_map_over_grid_visits_cells_row_major() -> None:
    graph = graph_of("fn main(g: Grid[2, 3]) -> Grid[2, 3] { map(inc, g) }")
    grid = N.args_of(graph, N.output(graph))[0]
    assert graph.nodes[grid][N.BUILTIN] == "grid"
    cells = [graph.nodes[N.args_of(graph, call)[0]][N.INDEX] for call in N.args_of(graph, grid)]
    assert cells == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]


def test_zip_with_feeds_matching_elements() -> None:
    graph = graph_of(
        "fn main(xs: Seq[Color, 3], ys: Seq[Color, 3]) -> Seq[Color, 3] { zip_with(plus, xs, ys) }"
    )
    xs, ys = N.inputs(graph)
    for call in (n for n, a in graph.nodes(data=True) if a.get(N.CIRCUIT) == "t.plus"):
        left, right = (N.args_of(graph, a)[0] for a in N.args_of(graph, call))
        assert (left, right) == (xs, ys)
        assert (
            graph.nodes[N.args_of(graph, call)[0]][N.INDEX] == graph.nodes[N.args_of(graph, call)[1]][N.INDEX]
        )


def test_fold_is_a_chain() -> None:
    graph = graph_of("fn main(xs: Seq[Color, 4]) -> Color { fold(plus, 0, xs) }")
    calls = [n for n, a in graph.nodes(data=True) if a.get(N.CIRCUIT) == "t.plus"]
    assert len(calls) == 4
    for earlier, later in itertools.pairwise(calls):
        assert N.args_of(graph, later)[0] == earlier, "each step takes the previous accumulator"
    first_acc = graph.nodes[N.args_of(graph, calls[0])[0]]
    assert first_acc[N.OP] == "const" and first_acc[N.VALUE] == 0


def test_compose_applies_g_then_f() -> None:
    graph = graph_of(
        "fn main(g: Grid[2, 2]) -> Grid[2, 2] { let h = compose(flip, map_inc); h(g) }\n"
        "fn map_inc(g: Grid[2, 2]) -> Grid[2, 2] { map(inc, g) }"
    )
    out = N.args_of(graph, N.output(graph))[0]
    assert graph.nodes[out][N.CIRCUIT] == "t.flip"
    assert graph.nodes[N.args_of(graph, out)[0]][N.BUILTIN] == "grid"


def test_functions_are_inlined_and_calls_keep_argument_order() -> None:
    graph = graph_of(
        "fn swap_plus(a: Color, b: Color) -> Color { plus(b, a) }\n"
        "fn main(x: Color, y: Color) -> Color { swap_plus(x, y) }"
    )
    (call,) = [n for n, a in graph.nodes(data=True) if a[N.OP] == "circuit"]
    x, y = N.inputs(graph)
    assert N.args_of(graph, call) == [y, x]
    assert graph.nodes[call][N.SPAN].line == 5, "the span points into the inlined function"


def test_same_node_twice_as_arguments() -> None:
    graph = graph_of("fn main(x: Color) -> Color { plus(x, x) }")
    (call,) = [n for n, a in graph.nodes(data=True) if a[N.OP] == "circuit"]
    assert N.args_of(graph, call) == [0, 0]


def test_literals_become_constants_and_mixed_lists_become_builtins() -> None:
    graph = graph_of("fn main(c: Color) -> (Grid[2, 2], Seq[Color, 2]) { ([[1, 2], [3, 4]], [c, 5]) }")
    counts = ops(graph)
    assert counts["const"] == 2 and counts["seq"] == 1
    const = next(
        a for _, a in graph.nodes(data=True) if a[N.OP] == "const" and isinstance(a[N.TYPE], T.GridT)
    )
    assert const[N.VALUE] == [[1, 2], [3, 4]]


def test_if_is_a_select_and_projection_an_index() -> None:
    graph = graph_of("fn main(p: (Bool, Color)) -> Color { if p.0 then p.1 else inc(p.1) }")
    counts = ops(graph)
    assert counts["select"] == 1 and counts["proj"] == 3


def test_missing_entry_is_a_diagnostic() -> None:
    with pytest.raises(CircError) as caught:
        graph_of("fn helper(c: Color) -> Color { c }")
    assert caught.value.diagnostics[0].message == "no function `main` to compile (functions here: helper)"


def test_a_circuit_can_be_the_entry() -> None:
    graph = graph_of("fn main(c: Color) -> Color { c }", entry="inc")
    assert graph.graph["signature"] == "inc(c: Color) -> Color" and ops(graph)["t.inc"] == 1
