"""Fusion planning: every circuit gets a kernel; kernels respect dependencies and tile limits."""

from __future__ import annotations

import importlib

import networkx as nx
import pytest

from circ.compiler import nodes as N
from circ.compiler.passes import optimize
from circ.compiler.passes.fuse import fuse, padded_positions

from support import circuits, graph_of, unchanged

FUSE = importlib.import_module("circ.compiler.passes.fuse")  # the module (the package exports the function)


def kernels(g) -> dict[int, int]:
    return {n: g.nodes[n][N.KERNEL] for n in circuits(g)}


def check_order(g) -> None:
    """A kernel reads only inputs and the results of earlier (or its own) kernels."""
    for node in circuits(g):
        for upstream in circuits(g):
            if upstream in nx.ancestors(g, node):
                assert g.nodes[upstream][N.KERNEL] <= g.nodes[node][N.KERNEL]


def test_a_chain_of_small_circuits_is_one_kernel() -> None:
    g = unchanged(graph_of("fn main(a: Color, b: Color) -> Color { plus(inc(inc(a)), plus(a, b)) }"), fuse)
    assert set(kernels(g).values()) == {0}


def test_positions_are_padded_per_call() -> None:
    g = graph_of("fn main(a: Color, g: Grid[5, 5]) -> (Color, Grid[5, 5]) { (plus(a, a), flip(g)) }")
    sizes = sorted(padded_positions(g, n) for n in circuits(g))
    assert sizes == [4, 64]  # 2 args + 1 query → 4; 25 cells + 25 queries → 64


def test_a_grid_circuit_and_colour_circuits_go_to_different_kernels() -> None:
    body = "fn main(a: Color, g: Grid[5, 5]) -> (Color, Grid[5, 5]) { (inc(plus(a, a)), flip(flip(g))) }"
    g = fuse(graph_of(body))
    by_circuit = {}
    for node, kernel in kernels(g).items():
        by_circuit.setdefault(g.nodes[node][N.CIRCUIT], set()).add(kernel)
    assert by_circuit["t.flip"].isdisjoint(by_circuit["t.inc"] | by_circuit["t.plus"])
    assert len(set(kernels(g).values())) == 2, "grouped by size, not split at every switch"
    check_order(g)


def test_call_limit_splits_long_chains(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FUSE, "MAX_CALLS", 2)
    g = fuse(graph_of("fn main(a: Color) -> Color { inc(inc(inc(inc(inc(a))))) }"))
    assert sorted(kernels(g).values()) == [0, 0, 1, 1, 2]
    check_order(g)


def test_batched_calls_count_against_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FUSE, "MAX_CALLS", 6)
    g = optimize(graph_of("fn main(xs: Seq[Color, 6]) -> Seq[Color, 6] { map(inc, map(inc, xs)) }"))
    assert sorted(kernels(g).values()) == [0, 1]
    check_order(g)
