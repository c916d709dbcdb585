"""The pass pipeline: its order, and what it does to the examples' graphs."""

from __future__ import annotations

import networkx as nx
import pytest

from circ import api
from circ.compiler import nodes as N
from circ.compiler.passes import PASSES, stages

from support import example_files


def test_the_passes_run_in_the_documented_order() -> None:
    assert [name for name, _ in PASSES] == ["fold", "cse", "dce", "batch", "fuse"]


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_every_example_stays_a_dag_with_every_call(path) -> None:
    steps = stages(api.compile(path).graph)
    lowered, final = steps[0][1], steps[-1][1]
    assert nx.is_directed_acyclic_graph(final)
    calls = [n for n, op in final.nodes(data=N.OP) if op == "circuit"]
    assert all(N.KERNEL in final.nodes[n] for n in calls)
    assert final.number_of_nodes() <= lowered.number_of_nodes() + sum(N.calls(final, n) for n in calls)
    assert N.inputs(final) and len(N.inputs(final)) == len(N.inputs(lowered))


def test_combinators_shrinks_to_ten_model_calls() -> None:
    path = next(p for p in example_files() if p.name == "combinators.circ")
    steps = dict(stages(api.compile(path).graph))
    count = {name: sum(op == "circuit" for _, op in g.nodes(data=N.OP)) for name, g in steps.items()}
    assert count["lower"] == 33 and count["batch"] == 10
    assert steps["dce"].number_of_nodes() < steps["lower"].number_of_nodes()
