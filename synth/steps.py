"""Candidates evaluated on the learned circuits, many at once.

Every production is a one-line *step* program (`fn s(a0: Grid[5, 5]) -> Grid[5, 5] { rot90(a0) }`,
`{ map(compose(color_succ, color_pred), a0) }`, `{ if a0 then a1 else a2 }`), written in circ,
checked in the spec's scope and compiled by `circ.api`'s stages (lower, then the passes, so a `map`
over 25 cells is one batched call). A step runs once per production and level on a batch holding
every candidate's arguments on every example row: `rows = candidates × examples`, one
`circ.runtime.execute.execute` on the torch backend over the catalog's circuits.
"""

from __future__ import annotations

import torch

from circ import api
from circ.circuit.provider import CircuitProvider
from circ.compiler.lower import lower
from circ.compiler.passes import optimize
from circ.lang import types as T
from circ.runtime.execute import execute
from circ.runtime.torch_backend import TorchBackend
from circ.synth.spec import Spec
from circ.synth.terms import Fn

ROWS_PER_PASS = 4096  # a 5×5-grid circuit's attention over 4,096 rows is ~160 MB


def step_body(kind: str, fn: Fn | None, arity: int, index: int | None) -> str:
    args = [f"a{i}" for i in range(arity)]
    match kind:
        case "call":
            return f"{fn.render()}({', '.join(args)})"
        case "apply":  # a unary function value on its argument: f(g(a0)) for compose(f, g)
            return fn.apply(args[0])
        case "map" | "zip_with" | "fold":
            return f"{kind}({fn.render()}, {', '.join(args)})"
        case "if":
            return "if a0 then a1 else a2"
        case "tuple":
            return f"({', '.join(args)})"
        case "proj":
            return f"a0.{index}"
    raise AssertionError(kind)


class Steps:
    """Step programs by key, compiled in groups (one type check of the spec per group), run batched."""

    def __init__(self, spec: Spec, provider: CircuitProvider, device: str = "cpu") -> None:
        self.spec = spec
        self.backend = TorchBackend(provider, device)
        self.backend.chunk_rows = ROWS_PER_PASS
        self.graphs: dict[tuple, object] = {}
        self.texts: dict[tuple, tuple[str, tuple[T.Type, ...], T.Type]] = {}
        self.compiled = 0  # step programs compiled so far

    def want(self, key: tuple, body: str, args: tuple[T.Type, ...], result: T.Type) -> None:
        """Declare a step; it is compiled by the next `prepare`."""
        if key not in self.texts:
            self.texts[key] = (body, args, result)

    def prepare(self) -> None:
        todo = [k for k in self.texts if k not in self.graphs]
        if not todo:
            return
        names = {k: f"synth_step_{len(self.graphs) + i}" for i, k in enumerate(todo)}
        fns = []
        for key in todo:
            body, args, result = self.texts[key]
            params = ", ".join(f"a{i}: {t}" for i, t in enumerate(args))
            fns.append(f"fn {names[key]}({params}) -> {result} {{ {body} }}")
        checked = api.check(self.spec.path, self.spec.source + "\n" + "\n".join(fns) + "\n")
        for key in todo:
            self.graphs[key] = optimize(lower(checked, names[key]))
        self.compiled += len(todo)

    def load(self, key: tuple) -> None:
        """Load the step's circuits now: raises `CircuitUnavailable` if one is not in the catalog."""
        self.prepare()
        self.backend.prepare(self.graphs[key])

    def run(self, key: tuple, inputs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Values `[rows, width]` and each row's confidence `[rows]` (its least confident circuit call)."""
        self.prepare()
        rows = inputs[0].shape[0]
        execution = execute(self.graphs[key], inputs, self.backend)
        if execution.confidence:
            sure = torch.stack(list(execution.confidence.values())).min(dim=0).values
        else:
            sure = torch.ones(rows)
        return execution.output, sure
