"""Constant folding: constant builtins become constants, take-apart-what-was-built is forwarded."""

from __future__ import annotations

from circ.compiler import nodes as N
from circ.compiler.passes.dce import dce
from circ.compiler.passes.fold import fold

from support import circuits, counts, graph_of, unchanged


def folded(body: str):
    return dce(unchanged(graph_of(body), fold))


def test_builtins_of_constants_become_constants() -> None:
    g = folded(
        "fn pair() -> (Color, Seq[Color, 2]) { (1, [2, 3]) }\n"
        "fn main(a: Color) -> Color { let t = pair(); plus(t.0, t.1[1]) }"
    )
    (call,) = circuits(g)
    args = [g.nodes[a] for a in N.args_of(g, call)]
    assert [(a[N.OP], a[N.VALUE]) for a in args] == [("const", 1), ("const", 3)]
    assert counts(g)["tuple"] == counts(g)["proj"] == counts(g)["index"] == 0


def test_projection_of_a_tuple_is_the_item() -> None:
    g = folded("fn main(a: Color, b: Color) -> Color { let t = (inc(a), b); plus(t.0, t.1) }")
    plus = next(n for n in circuits(g) if g.nodes[n][N.CIRCUIT] == "t.plus")
    inc = next(n for n in circuits(g) if g.nodes[n][N.CIRCUIT] == "t.inc")
    assert N.args_of(g, plus) == [inc, N.inputs(g)[1]]
    assert counts(g)["tuple"] == 0


def test_map_after_map_feeds_circuits_directly() -> None:
    g = folded("fn main(xs: Seq[Color, 3]) -> Seq[Color, 3] { map(inc, map(inc, xs)) }")
    assert counts(g)["index"] == 3 and counts(g)["seq"] == 1, "only the input's indices and the result"
    outer = [n for n in circuits(g) if g.nodes[N.args_of(g, n)[0]][N.OP] == "circuit"]
    assert len(outer) == 3


def test_grid_cells_are_forwarded() -> None:
    g = folded(
        "fn cells(a: Color) -> Grid[2, 2] { [[a, inc(a)], [a, a]] }\n"
        "fn main(a: Color) -> Color { let g = cells(a); inc(g[0, 1]) }"
    )
    outer = max(circuits(g))
    assert g.nodes[N.args_of(g, outer)[0]][N.OP] == "circuit"


def test_select_on_a_constant_condition_keeps_one_branch() -> None:
    g = folded("fn main(a: Color, b: Color) -> Color { if true then inc(a) else inc(b) }")
    (call,) = circuits(g)
    assert N.args_of(g, call) == [N.inputs(g)[0]] and counts(g)["select"] == 0


def test_select_between_equal_branches_is_the_branch() -> None:
    g = folded("fn main(c: Bool, a: Color) -> Color { let x = inc(a); if c then x else x }")
    assert counts(g)["select"] == 0 and N.args_of(g, N.output(g)) == circuits(g)


def test_a_select_on_an_input_stays() -> None:
    g = folded("fn main(c: Bool, a: Color, b: Color) -> Color { if c then inc(a) else b }")
    assert counts(g)["select"] == 1
