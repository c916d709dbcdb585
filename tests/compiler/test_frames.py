"""The lowering records which inlined call made each node (`frame`), and DOT clusters by it."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from circ.compiler import nodes as N
from circ.compiler.dot import to_dot

from support import graph_of

BODY = """
fn twice(c: Color) -> Color { inc(inc(c)) }
fn four(c: Color) -> Color { twice(twice(c)) }
fn main(c: Color) -> Color { plus(four(c), inc(c)) }
"""


def test_every_node_knows_the_inlined_calls_it_was_made_in() -> None:
    graph = graph_of(BODY)
    frames = {n: tuple(name for name, _ in graph.nodes[n][N.FRAME]) for n in graph.nodes}
    calls = [n for n, op in graph.nodes(data=N.OP) if op == "circuit"]
    by_frame = [frames[n] for n in calls]
    # four(c) inlines twice twice, each two `inc`; then main's own inc and plus
    assert by_frame == [("main", "four", "twice")] * 4 + [("main",)] * 2
    inner = [graph.nodes[n][N.FRAME][2][1].column for n in calls[:4]]
    assert inner == [36, 36, 30, 30]  # the inner `twice(c)` call, then the outer one
    assert all(frames[n] == ("main",) for n, op in graph.nodes(data=N.OP) if op in ("input", "output"))


def test_dot_draws_a_nested_cluster_per_inlined_call() -> None:
    text = to_dot(graph_of(BODY))
    assert text.count("subgraph cluster_") == 3  # four, and the two twice calls inside it
    four = text.index('label="four  ')
    assert text.index('label="twice  ') > four and text.count("    n") >= 4


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` is not installed")
def test_graphviz_renders_the_clusters() -> None:
    rendered = subprocess.run(
        ["dot", "-Tsvg"], input=to_dot(graph_of(BODY)), capture_output=True, text=True, check=False
    )
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stdout.count('class="cluster"') == 3
