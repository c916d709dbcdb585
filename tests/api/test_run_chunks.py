"""`api.run_chunks`: a run streamed in chunks is the run, chunk by chunk, and holds one chunk."""

from __future__ import annotations

import pytest
import torch

from circ import api
from circ.runtime.values import domain_batch, domain_chunks, domain_rows

PROGRAM = """
circuit plus(a: Color, b: Color) -> Color learned "t.add";
circuit bigger(a: Color, b: Color) -> Color learned "t.max";
fn main(a: Color, b: Color, c: Color) -> Color { bigger(plus(a, b), plus(b, c)) }
"""


@pytest.fixture
def compiled() -> api.Compiled:
    return api.compile("t.circ", source=PROGRAM)


def test_chunks_concatenate_to_the_whole_run(compiled, color_provider) -> None:
    whole = api.run(compiled, api.Inputs(whole_domain=True), color_provider)
    parts = list(api.run_chunks(compiled, api.Inputs(whole_domain=True), color_provider, chunk_rows=128))
    assert [p.rows for p in parts] == [128] * 7 + [104]
    joined = api.concat(parts)
    assert torch.equal(joined.execution.output, whole.execution.output)
    for x, y in zip(joined.inputs, whole.inputs, strict=True):
        assert torch.equal(x, y)
    for node, sure in whole.execution.confidence.items():
        torch.testing.assert_close(joined.execution.confidence[node], sure)


def test_grad_mode_does_not_leak_out_of_a_chunked_run(compiled, color_provider) -> None:
    for _ in api.run_chunks(compiled, api.Inputs(whole_domain=True), color_provider, chunk_rows=500):
        assert torch.is_grad_enabled()


def test_a_head_is_a_copy_of_the_first_rows(compiled, color_provider) -> None:
    [ran] = api.run_chunks(compiled, api.Inputs(whole_domain=True), color_provider, chunk_rows=1000)
    head = ran.head(3)
    assert head.rows == 3 and torch.equal(head.execution.output, ran.execution.output[:3])
    assert head.execution.output.untyped_storage().nbytes() < ran.execution.output.untyped_storage().nbytes()


def test_domain_chunks_enumerate_the_domain_in_order(compiled) -> None:
    whole = domain_batch(compiled.params)
    chunks = list(domain_chunks(compiled.params, 333))
    assert [c[0].shape[0] for c in chunks] == [333, 333, 333, 1]
    for i, column in enumerate(whole):
        assert torch.equal(torch.cat([c[i] for c in chunks]), column)
    assert torch.equal(domain_rows(compiled.params, 998, 1000)[2], whole[2][998:])
