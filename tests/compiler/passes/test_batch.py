"""Horizontal batching: same circuit, same depth → one call over a k× taller batch."""

from __future__ import annotations

import networkx as nx

from circ.compiler import nodes as N
from circ.compiler.passes.batch import batch
from circ.compiler.passes.dce import dce
from circ.compiler.passes.fold import fold
from circ.lang import types as T

from support import circuits, counts, graph_of, unchanged


def test_a_map_becomes_one_batched_call() -> None:
    g = unchanged(graph_of("fn main(xs: Seq[Color, 6]) -> Seq[Color, 6] { map(inc, xs) }"), batch)
    (call,) = circuits(g)
    assert g.nodes[call][N.BATCH] == 6 and g.nodes[call][N.TYPE] == T.TupleT((T.COLOR,) * 6)
    indices = [g.nodes[a][N.INDEX] for a in N.args_of(g, call)]
    assert indices == [(i,) for i in range(6)], "call i takes element i"
    seq = N.args_of(g, N.output(g))[0]
    projections = [g.nodes[p][N.INDEX] for p in N.args_of(g, seq)]
    assert projections == list(range(6)) and all(N.args_of(g, p) == [call] for p in N.args_of(g, seq))


def test_two_argument_calls_keep_their_argument_groups() -> None:
    g = batch(graph_of("fn main(a: Color, b: Color) -> Color { plus(plus(a, b), plus(b, a)) }"))
    a, b = N.inputs(g)
    batched = next(n for n in circuits(g) if N.calls(g, n) == 2)
    assert N.call_args(g, batched) == [[a, b], [b, a]]
    assert counts(g)["t.plus"] == 2, "the outer call is one level deeper"


def test_a_chain_is_not_batched() -> None:
    g = batch(graph_of("fn main(a: Color) -> Color { inc(inc(inc(a))) }"))
    assert len(circuits(g)) == 3 and all(N.calls(g, n) == 1 for n in circuits(g))


def test_only_the_same_circuit_and_depth_batch() -> None:
    g = batch(graph_of("fn main(a: Color, b: Color) -> Color { plus(inc(a), plus(inc(b), a)) }"))
    kinds = sorted((g.nodes[n][N.CIRCUIT], N.calls(g, n)) for n in circuits(g))
    # depth 1: inc(a), inc(b) batched; depth 2: plus(inc(b), a); depth 3: the outer plus
    assert kinds == [("t.inc", 2), ("t.plus", 1), ("t.plus", 1)]


def test_zip_with_after_map_batches_each_level() -> None:
    body = (
        "fn main(xs: Seq[Color, 4], ys: Seq[Color, 4]) -> Seq[Color, 4] { zip_with(plus, map(inc, xs), ys) }"
    )
    g = batch(dce(fold(graph_of(body))))
    kinds = sorted((g.nodes[n][N.CIRCUIT], N.calls(g, n)) for n in circuits(g))
    assert kinds == [("t.inc", 4), ("t.plus", 4)]
    assert nx.is_directed_acyclic_graph(g)
