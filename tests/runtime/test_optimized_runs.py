"""The passes change how a program runs, never what it computes: the torch backend gives the same
tokens (and the same per-row confidence) on the lowered graph and on the optimized one."""

from __future__ import annotations

import pytest
import torch

from circ import api
from circ.compiler import nodes as N
from circ.compiler.lower import lower
from circ.compiler.passes import optimize
from circ.lang.check import check
from circ.lang.modules import load_text
from circ.runtime import torch_backend
from circ.runtime.execute import Execution, execute
from circ.runtime.torch_backend import TorchBackend
from circ.runtime.values import domain_batch

from support import example_files, random_batch, shipped_or_skip

PRELUDE = """
circuit plus(a: Color, b: Color) -> Color learned "t.add";
circuit bigger(a: Color, b: Color) -> Color learned "t.max";
"""

PROGRAMS = {
    "cse": "fn main(a: Color, b: Color) -> Color { bigger(plus(a, b), plus(a, b)) }",
    "batch": "fn main(a: Color, b: Color, c: Color) -> Color { bigger(plus(a, b), plus(b, c)) }",
    "fold": "fn pair(a: Color) -> (Color, Color) { (a, 3) }\n"
    "fn main(a: Color, b: Color) -> Color { let t = pair(plus(a, b)); if true then plus(t.0, t.1) else a }",
    "map": "fn main(xs: Seq[Color, 2], ys: Seq[Color, 2]) -> Seq[Color, 2] { zip_with(plus, xs, ys) }",
}


def row_confidence(execution: Execution) -> torch.Tensor:
    return torch.stack(list(execution.confidence.values())).min(dim=0).values


def assert_same(graph, provider, inputs) -> None:
    optimized = optimize(graph)
    before = execute(graph, inputs, TorchBackend(provider))
    after = execute(optimized, inputs, TorchBackend(provider))
    assert torch.equal(before.output, after.output)
    assert torch.equal(row_confidence(before), row_confidence(after))


@pytest.mark.parametrize("name", PROGRAMS)
def test_passes_keep_outputs_on_the_whole_domain(name, color_provider) -> None:
    checked = check(load_text(PRELUDE + PROGRAMS[name], "t.circ"))
    graph = lower(checked)
    assert optimize(graph).number_of_nodes() != graph.number_of_nodes(), "the passes changed nothing here"
    assert_same(graph, color_provider, domain_batch(list(checked.function("main").signature.params)))


def test_a_batched_call_taller_than_a_chunk_is_run_in_chunks(color_provider, monkeypatch) -> None:
    checked = check(load_text(PRELUDE + PROGRAMS["map"], "t.circ"))
    graph = optimize(lower(checked))
    assert max(N.calls(graph, n) for n, op in graph.nodes(data=N.OP) if op == "circuit") == 2
    inputs = random_batch(list(checked.function("main").signature.params), 500)
    whole = execute(graph, inputs, TorchBackend(color_provider))
    monkeypatch.setattr(torch_backend, "CHUNK_ROWS", 128)
    assert torch.equal(whole.output, execute(graph, inputs, TorchBackend(color_provider)).output)


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_passes_keep_outputs_on_the_examples(path, stdlib_provider) -> None:
    compiled = api.compile(path)
    shipped_or_skip(compiled.graph, stdlib_provider)
    params = list(compiled.checked.function("main").signature.params)
    assert_same(compiled.graph, stdlib_provider, random_batch(params, 500))
