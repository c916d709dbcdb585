"""DCE: what the output does not need goes; parameters stay."""

from __future__ import annotations

from circ.compiler import nodes as N
from circ.compiler.passes.dce import dce

from support import counts, graph_of, unchanged


def test_an_unused_let_is_removed_but_parameters_stay() -> None:
    g = unchanged(graph_of("fn main(a: Color, b: Color) -> Color { let unused = inc(a); inc(b) }"), dce)
    assert counts(g)["t.inc"] == 1 and counts(g)["input"] == 2
    assert [g.nodes[n][N.POSITION] for n in N.inputs(g)] == [0, 1]


def test_a_live_graph_is_kept_whole() -> None:
    graph = graph_of("fn main(a: Color) -> Color { plus(inc(a), a) }")
    assert dce(graph).number_of_nodes() == graph.number_of_nodes()
    assert dce(graph).graph == graph.graph
