"""Calls needed under different `if` conditions are never batched together: a batched call reports
one confidence, and a row must not be charged for the branch it does not take."""

from __future__ import annotations

from pathlib import Path

from circ import api
from circ.compiler import nodes as N
from circ.compiler.demand import ALWAYS, conditions

BRANCHES = """use stdlib.modular;
fn main(a: Mod[97], b: Mod[97]) -> Mod[97] { if is_zero(b) then inc(a) else inc(b) }
"""
BOTH = """use stdlib.modular;
fn main(a: Mod[97], b: Mod[97]) -> Mod[97] { add(inc(a), inc(b)) }
"""


def circuit_nodes(graph, name: str) -> list[int]:
    return [n for n, d in graph.nodes(data=True) if d[N.OP] == "circuit" and d[N.NAME] == name]


def optimized(tmp_path: Path, text: str):
    path = tmp_path / "p.circ"
    path.write_text(text)
    return api.compile(path).optimized


def test_branch_calls_stay_apart(tmp_path: Path) -> None:
    graph = optimized(tmp_path, BRANCHES)
    incs = circuit_nodes(graph, "inc")
    assert len(incs) == 2 and all(graph.nodes[n].get(N.BATCH) is None for n in incs)
    needed = conditions(graph)
    x, y = (needed[n] for n in incs)
    assert ALWAYS not in (x, y) and x != y


def test_calls_needed_always_are_still_batched(tmp_path: Path) -> None:
    graph = optimized(tmp_path, BOTH)
    (batched,) = circuit_nodes(graph, "inc")
    assert graph.nodes[batched][N.BATCH] == 2
