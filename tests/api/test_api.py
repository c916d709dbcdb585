"""The library API, stage by stage: what the CLI, verify, benchmarks and the tests call."""

from __future__ import annotations

import pytest

from circ import api
from circ.compiler import nodes as N
from circ.lang.diagnostics import CircError
from circ.lang.errors import UserError

from support import EXAMPLES

SOURCE = """
circuit plus(a: Color, b: Color) -> Color ensures result == (a + b) % 10 learned "t.add";
fn twice(x: Color) -> Color { plus(x, x) }
fn main(xs: Seq[Color, 3]) -> Seq[Color, 3] { map(twice, xs) }
"""


def test_compile_gives_every_stage() -> None:
    compiled = api.compile("t.circ", source=SOURCE)
    assert compiled.entry == "main" and compiled.params[0][0] == "xs"
    calls = [n for n, op in compiled.graph.nodes(data=N.OP) if op == "circuit"]
    batched = [n for n, op in compiled.optimized.nodes(data=N.OP) if op == "circuit"]
    assert len(calls) == 3 and len(batched) == 1 and N.calls(compiled.optimized, batched[0]) == 3


def test_run_one_row_and_the_whole_domain(color_provider) -> None:
    compiled = api.compile("t.circ", source=SOURCE)
    one = api.run(compiled, api.Inputs(["xs=[1, 2, 7]"]), color_provider)
    assert one.rows == 1 and one.execution.output.tolist() == [[2, 4, 4]]
    every = api.run(compiled, api.Inputs(whole_domain=True), color_provider)
    assert every.rows == 1000
    assert every.execution.output.tolist()[123] == [2, 4, 6]  # xs = [1, 2, 3]
    traced = api.run(compiled, api.Inputs(["xs=[1, 2, 7]"]), color_provider, trace=True)
    assert traced.graph is compiled.graph and traced.execution.values


def test_errors_are_user_errors(color_provider) -> None:
    with pytest.raises(CircError):
        api.compile("t.circ", source=SOURCE + "fn broken() -> Color { 12 }")
    compiled = api.compile("t.circ", source=SOURCE)
    with pytest.raises(UserError, match="xs: expected Seq"):
        api.run(compiled, api.Inputs(["xs=4"]), color_provider)


def test_check_stops_before_the_graph() -> None:
    checked = api.check(EXAMPLES / "affine.circ")
    assert checked.function("main") is not None
