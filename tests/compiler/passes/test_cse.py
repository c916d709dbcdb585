"""CSE: identical calls on identical arguments are merged; anything else stays apart."""

from __future__ import annotations

from circ.compiler import nodes as N
from circ.compiler.passes.cse import cse

from support import circuits, counts, graph_of, unchanged


def test_two_identical_calls_run_once() -> None:
    g = unchanged(graph_of("fn main(a: Color) -> Color { plus(inc(a), inc(a)) }"), cse)
    assert counts(g)["t.inc"] == 1
    plus = next(n for n in circuits(g) if g.nodes[n][N.CIRCUIT] == "t.plus")
    inc = next(n for n in circuits(g) if g.nodes[n][N.CIRCUIT] == "t.inc")
    assert N.args_of(g, plus) == [inc, inc]


def test_merging_cascades_through_chains() -> None:
    g = cse(graph_of("fn main(a: Color) -> Color { plus(inc(inc(a)), inc(inc(a))) }"))
    assert counts(g)["t.inc"] == 2


def test_calls_on_different_arguments_or_order_stay_apart() -> None:
    g = cse(graph_of("fn main(a: Color, b: Color) -> Color { plus(plus(a, b), plus(b, a)) }"))
    assert counts(g)["t.plus"] == 3
    g = cse(graph_of("fn main(a: Color, b: Color) -> Color { plus(inc(a), inc(b)) }"))
    assert counts(g)["t.inc"] == 2


def test_equal_constants_and_builtins_merge() -> None:
    g = cse(graph_of("fn main(xs: Seq[Color, 2]) -> Color { plus(plus(xs[0], 3), plus(xs[0], 3)) }"))
    assert counts(g)["const"] == 1 and counts(g)["index"] == 1 and counts(g)["t.plus"] == 2


def test_inputs_are_never_merged() -> None:
    g = cse(graph_of("fn main(a: Color, b: Color) -> Color { plus(a, b) }"))
    assert counts(g)["input"] == 2
