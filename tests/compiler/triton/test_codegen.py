"""Kernel generation: one kernel per planned chain, specialised by each circuit's sizes, reading
only the columns it uses (plain text checks: no kernel runs here)."""

from __future__ import annotations

import ast

from circ.circuit.config import ModelConfig
from circ.compiler import nodes as N
from circ.compiler.lower import lower
from circ.compiler.passes import optimize
from circ.compiler.passes.fuse import fuse
from circ.compiler.triton.codegen import generate, weight_layouts
from circ.lang.check import check
from circ.lang.modules import load_text

PRELUDE = """
circuit inc(c: Color) -> Color learned "t.inc";
circuit plus(a: Color, b: Color) -> Color learned "t.plus";
circuit flip(g: Grid[5, 5]) -> Grid[5, 5] learned "t.flip";
"""
CONFIGS = {
    "t.inc": ModelConfig(vocab=11, n_positions=2, out_vocab=10, n_out=1, d_model=32, n_heads=2, d_mlp=64),
    "t.plus": ModelConfig(vocab=11, n_positions=3, out_vocab=10, n_out=1, d_model=24, n_heads=3, d_mlp=40),
    "t.flip": ModelConfig(vocab=11, n_positions=50, out_vocab=10, n_out=25, d_model=16, n_heads=2, d_mlp=32),
}


def kernels_of(body: str, passes: bool = True):
    graph = lower(check(load_text(PRELUDE + body, "t.circ")))
    graph = optimize(graph) if passes else fuse(graph)
    return graph, generate(graph, weight_layouts(graph, CONFIGS))


def test_a_chain_is_one_kernel_with_a_call_per_circuit_call() -> None:
    graph, kernels = kernels_of("fn main(a: Color, b: Color) -> Color { plus(inc(a), inc(plus(a, b))) }")
    (kernel,) = kernels
    ast.parse(kernel.source)  # valid Python
    assert kernel.source.count("circuit(w, ") == 4 and kernel.calls == 4
    assert "D=24" in kernel.source and "D=32" in kernel.source, "each call is specialised to its circuit"
    assert kernel.inputs == tuple(N.inputs(graph)) and len(kernel.outputs) == 4
    assert kernel.rows_per_tile == 16  # 64 // 4 positions


def test_weights_of_each_circuit_have_their_own_offsets() -> None:
    graph, _ = kernels_of("fn main(a: Color) -> Color { plus(inc(a), a) }")
    layouts = weight_layouts(graph, CONFIGS)
    first, second = sorted(layouts.values(), key=lambda layout: layout.base)
    assert second.base >= first.base + first.size and second.base % 16 == 0


def test_only_used_columns_are_loaded() -> None:
    _, (kernel,) = kernels_of("fn main(xs: Seq[Color, 6]) -> Color { inc(xs[4]) }")
    assert "tl.load(x + r * 6 + 4," in kernel.source
    assert kernel.source.count("tl.load(x") == 1


def test_structural_builtins_are_renamings_and_select_a_where() -> None:
    body = (
        "fn pair(a: Color) -> (Color, Color) { (a, 4) }\n"
        "fn main(c: Bool, a: Color) -> Color { let t = pair(inc(a)); if c then plus(t.0, t.1) else a }"
    )
    _, (kernel,) = kernels_of(body)
    assert " != 0" not in kernel.source, "the select comes after the last call: it runs in torch"
    assert "t = tl.where(pos4 == 1, 4, t)" in kernel.source, "the constant 4 is a literal token"


def test_a_select_inside_a_chain_is_a_where_per_leaf() -> None:
    _, (kernel,) = kernels_of("fn main(c: Bool, a: Color) -> Color { inc(if c then inc(a) else a) }")
    assert kernel.source.count(" != 0, ") == 1


def test_a_constant_condition_in_an_unfolded_graph_picks_its_branch() -> None:
    _, (kernel,) = kernels_of("fn main(a: Color) -> Color { inc(if true then inc(a) else a) }", passes=False)
    assert "!= 0" not in kernel.source


def test_different_tile_sizes_get_different_kernels() -> None:
    body = "fn main(a: Color, g: Grid[5, 5]) -> (Color, Grid[5, 5]) { (inc(a), flip(flip(g))) }"
    _, kernels = kernels_of(body)
    assert sorted(k.rows_per_tile for k in kernels) == [1, 32]
    grid = next(k for k in kernels if k.rows_per_tile == 1)
    assert grid.source.count("circuit(w, ") == 2 and "tl.full([1, 64], 10, tl.int32)" in grid.source
