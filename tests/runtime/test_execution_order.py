"""The execution loop's order: dependencies first, the smallest ready node id next (a run is
deterministic), what the output and every circuit call need (every node when values are kept), and a
cycle (a backend's reads can add edges) refused rather than half run."""

from __future__ import annotations

import networkx as nx
import pytest

from circ.compiler import nodes as N
from circ.compiler.lower import lower
from circ.lang.check import check
from circ.lang.modules import load_text
from circ.runtime.execute import _order

SOURCE = """
circuit plus(a: Color, b: Color) -> Color learned "t.add";
fn main(a: Color, b: Color, c: Color) -> Color { plus(plus(a, b), plus(c, a)) }
"""


def _graph() -> tuple[nx.MultiDiGraph, dict[int, list[int]]]:
    graph = lower(check(load_text(SOURCE, "t.circ")))
    return graph, {n: N.args_of(graph, n) for n in graph.nodes}


@pytest.mark.parametrize("keep", [False, True])
def test_each_step_runs_the_smallest_node_whose_inputs_are_done(keep: bool) -> None:
    graph, deps = _graph()
    order = _order(graph, deps, keep)
    assert len(order) == len(set(order))
    placed: set[int] = set()
    for node in order:
        ready = [n for n in order if n not in placed and set(deps[n]) <= placed]
        assert node == min(ready)
        placed.add(node)
    needed = {N.output(graph), *(n for n, op in graph.nodes(data=N.OP) if op == "circuit")}
    assert needed <= set(order) and (set(order) == set(graph.nodes) or not keep)


def test_a_cycle_in_the_reads_is_refused() -> None:
    graph, deps = _graph()
    circuits = [n for n, op in graph.nodes(data=N.OP) if op == "circuit"]
    inner, outer = next((a, b) for a in circuits for b in circuits if a in nx.ancestors(graph, b))
    deps[inner] = [*deps[inner], outer]
    with pytest.raises(nx.NetworkXUnfeasible):
        _order(graph, deps, False)
