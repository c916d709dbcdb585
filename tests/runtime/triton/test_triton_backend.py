"""The Triton backend against the torch reference: the same tokens, confidences within 1e-4
(fp32), fused or per layer, on random circuits of every shape and on the shipped examples."""

from __future__ import annotations

import pytest
import torch

from circ import api
from circ.circuit.config import ModelConfig
from circ.circuit.interface import CircuitInterface
from circ.circuit.provider import LoadedCircuit, ModelsProvider
from circ.compiler import nodes as N
from circ.compiler.lower import lower
from circ.compiler.passes import optimize
from circ.lang.check import check
from circ.lang.modules import load_text
from circ.learn.model import build_model
from circ.runtime import triton_backend
from circ.runtime.backends import BackendUnavailable, interpreting
from circ.runtime.execute import Execution, execute
from circ.runtime.torch_backend import TorchBackend
from circ.runtime.triton_backend import TritonBackend

from support import example_files, random_batch, shipped_or_skip

DEVICE = "cpu" if interpreting() else "cuda"

PROGRAM = """
circuit shift(a: Int[-3, 3], b: Color) -> Int[-3, 3] learned "r.shift";
circuit test(c: Color) -> Bool learned "r.test";
circuit pick(p: Bool, c: Color) -> Color learned "r.pick";
circuit inc(c: Color) -> Color learned "r.inc";
circuit turn(g: Grid[5, 5]) -> Grid[5, 5] learned "r.turn";

fn main(a: Int[-3, 3], xs: Seq[Color, 3], g: Grid[5, 5]) -> (Int[-3, 3], Seq[Color, 3], Color, Grid[5, 5]) {
  let t = turn(g);
  let flag = test(t[2, 3]);
  let s = shift(shift(a, xs[0]), 7);
  (s, map(inc, xs), if flag then pick(flag, xs[1]) else t[0, 0], turn(t))
}
"""
# random weights of varied shapes: (d_model, heads, d_mlp, layers, LayerNorm, causal)
SHAPES = {
    "r.shift": (32, 2, 64, 1, False, True),
    "r.test": (24, 3, 40, 2, True, False),
    "r.pick": (16, 4, 16, 1, True, True),
    "r.inc": (8, 1, 8, 2, False, False),
    "r.turn": (16, 2, 32, 1, False, True),
}


@pytest.fixture(scope="module")
def random_program():
    checked = check(load_text(PROGRAM, "r.circ"))
    graph = lower(checked)
    models = {}
    for node, attrs in graph.nodes(data=True):
        if attrs[N.OP] == "circuit" and attrs[N.CIRCUIT] not in models:
            iface = CircuitInterface(*N.call_types(graph, node))
            d, h, mlp, layers, ln, causal = SHAPES[attrs[N.CIRCUIT]]
            cfg = ModelConfig.for_interface(
                iface, d_model=d, n_heads=h, d_mlp=mlp, n_layers=layers, layernorm=ln, causal=causal
            )
            models[attrs[N.CIRCUIT]] = LoadedCircuit(iface, build_model(cfg, seed=len(models)).eval())
    params = list(checked.function("main").signature.params)
    return graph, ModelsProvider(models), random_batch(params, 20, seed=5)


def row_confidence(execution: Execution) -> torch.Tensor:
    return torch.stack([c.cpu() for c in execution.confidence.values()]).min(dim=0).values


def assert_matches(reference: Execution, got: Execution) -> None:
    assert torch.equal(reference.output, got.output.cpu())
    assert torch.allclose(row_confidence(reference), row_confidence(got), rtol=1e-4, atol=0)


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "per-layer"])
@pytest.mark.parametrize("passes", [True, False], ids=["optimized", "lowered"])
def test_random_circuits_match_the_torch_backend(random_program, fuse: bool, passes: bool, tmp_path) -> None:
    graph, provider, inputs = random_program
    reference = execute(graph, inputs, TorchBackend(provider))
    run_graph = optimize(graph) if passes else graph
    backend = TritonBackend(provider, DEVICE, fuse=fuse, cache_dir=tmp_path)
    assert_matches(reference, execute(run_graph, inputs, backend))
    if fuse:  # the grid circuits (64 padded positions) and the rest cannot share a tile
        assert len(backend.prepare(run_graph).kernels) == 2


def test_values_of_every_node_match_for_traces(random_program, tmp_path) -> None:
    graph, provider, inputs = random_program
    reference = execute(graph, inputs, TorchBackend(provider), keep=True)
    got = execute(graph, inputs, TritonBackend(provider, DEVICE, cache_dir=tmp_path), keep=True)
    assert set(got.values) == set(reference.values) == set(graph.nodes)
    assert all(torch.equal(reference.values[n], got.values[n].cpu()) for n in graph.nodes)
    assert set(got.confidence) == set(reference.confidence)


def test_rows_run_in_chunks(random_program, tmp_path, monkeypatch) -> None:
    graph, provider, inputs = random_program
    inputs = [x[:9] for x in inputs]
    whole = execute(graph, inputs, TritonBackend(provider, DEVICE, cache_dir=tmp_path))
    monkeypatch.setattr(triton_backend, "CHUNK_ROWS", 5)
    assert_matches(whole, execute(graph, inputs, TritonBackend(provider, DEVICE, cache_dir=tmp_path)))


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_examples_match_the_torch_backend(path, stdlib_provider, tmp_path) -> None:
    compiled = api.compile(path)
    shipped_or_skip(compiled.graph, stdlib_provider)
    params = list(compiled.checked.function("main").signature.params)
    inputs = random_batch(params, 24, seed=1)
    graph = optimize(compiled.graph)
    reference = execute(compiled.graph, inputs, TorchBackend(stdlib_provider))
    assert_matches(
        reference, execute(graph, inputs, TritonBackend(stdlib_provider, DEVICE, cache_dir=tmp_path))
    )


def test_bf16_gives_the_same_tokens_on_trained_circuits(stdlib_provider, tmp_path) -> None:
    compiled = api.compile(next(p for p in example_files() if p.name == "combinators.circ"))
    shipped_or_skip(compiled.graph, stdlib_provider)
    inputs = random_batch(list(compiled.checked.function("main").signature.params), 16, seed=2)
    reference = execute(compiled.graph, inputs, TorchBackend(stdlib_provider))
    backend = TritonBackend(stdlib_provider, DEVICE, dtype=torch.bfloat16, cache_dir=tmp_path)
    got = execute(optimize(compiled.graph), inputs, backend)
    assert torch.equal(reference.output, got.output.cpu())
    assert torch.allclose(row_confidence(reference), row_confidence(got), rtol=5e-2)


def test_on_cpu_without_the_interpreter_it_refuses_to_run(random_program, monkeypatch) -> None:
    graph, provider, inputs = random_program
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(BackendUnavailable, match="needs a CUDA GPU"):
        execute(graph, inputs, TritonBackend(provider, "cpu"))
