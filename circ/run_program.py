"""Running a program: compile it, gather its inputs, optimize the graph (unless every node's value
is wanted, for traces), execute it on a backend."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from circ.compiler.passes import optimize
from circ.pipeline import Compiled, compile_file
from circ.runtime.backends import make_backend
from circ.runtime.provider import CircuitProvider
from circ.runtime.torch_backend import Execution
from circ.runtime.values import domain_batch, rows_from_assignments, rows_from_jsonl, to_batch


@dataclass(frozen=True)
class Ran:
    """A program run on a batch: its inputs, outputs, and (when traced) every node's values."""

    compiled: Compiled
    params: list[tuple[str, object]]
    inputs: list[torch.Tensor]  # one [rows, leaves] tensor per parameter
    execution: Execution

    @property
    def rows(self) -> int:
        return self.execution.output.shape[0]


def run_file(
    path: str | Path,
    provider: CircuitProvider,
    *,
    assignments: list[str] | None = None,
    rows_file: Path | None = None,
    whole_domain: bool = False,
    entry: str = "main",
    keep: bool = False,
    device: str = "cpu",
    backend: str = "torch",
) -> Ran:
    """Compile and run a program on one row (`x=3` assignments), a JSON-lines file, or its domain."""
    compiled = compile_file(path, entry)
    params = list(compiled.checked.function(entry).signature.params)
    if whole_domain:
        inputs = domain_batch(params)  # every input, enumerated in token order
    else:
        rows = (
            rows_from_jsonl(rows_file, params)
            if rows_file
            else rows_from_assignments(assignments or [], params)
        )
        inputs = to_batch(rows, params)
    graph = compiled.graph if keep else optimize(compiled.graph)  # traces show every call, by source
    execution = make_backend(backend, provider, device).run(graph, inputs, keep=keep)
    return Ran(compiled, params, inputs, execution)
