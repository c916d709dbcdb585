"""Traces: every circuit step of a row with its inputs, output, confidence and contract check."""

from __future__ import annotations

import torch

from circ.compiler.lower import lower
from circ.lang.check import check
from circ.lang.modules import load_text
from circ.runtime.execute import execute
from circ.runtime.torch_backend import TorchBackend
from circ.runtime.trace import trace_row

SOURCE = """
circuit plus(a: Color, b: Color) -> Color ensures result == (a + b) % 10 learned "t.add";
circuit bigger(a: Color, b: Color) -> Color ensures result == a learned "t.max";
fn main(a: Color, b: Color) -> Color { bigger(plus(a, b), b) }
"""


def test_trace_lists_inputs_circuits_and_output_with_contract_checks(color_provider) -> None:
    graph = lower(check(load_text(SOURCE, "t.circ")))
    execution = execute(
        graph, [torch.tensor([[7], [2]]), torch.tensor([[5], [3]])], TorchBackend(color_provider), keep=True
    )
    steps = trace_row(graph, execution, row=0)  # a=7, b=5: plus → 2, bigger(2, 5) → 5
    assert [s.what for s in steps] == ["input a", "input b", "plus [t.add]", "bigger [t.max]", "output"]
    plus, bigger = steps[2], steps[3]
    assert (plus.inputs, plus.output, plus.ensures) == ((7, 5), 2, True)
    # `bigger` is declared (wrongly) to return its first argument: the trace flags the step
    assert (bigger.inputs, bigger.output, bigger.ensures) == ((2, 5), 5, False)
    assert 0.5 < plus.confidence <= 1.0
    assert steps[-1].output == 5 and steps[2].span.line == 4
    second = trace_row(graph, execution, row=1)  # a=2, b=3: plus → 5, bigger(5, 3) → 5
    assert second[3].ensures is True
