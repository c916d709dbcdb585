"""Synthesis problems as ARC poses them: a hidden program, a few input → output pairs made with it,
and held-out inputs to see whether what was found generalises.

Outputs come from the *reference semantics* (every circuit replaced by its task's reference
function, `circ.verify.reference`), never from the circuits, so a circuit's mistake shows up as a
problem the search cannot fit rather than as a wrong expected answer. Grid inputs are ARC-like:
coloured cells on a black background, each cell coloured with probability `GRID_DENSITY`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from circ import api
from circ.circuit.provider import CircuitProvider
from circ.lang import types as T
from circ.lang.evaluate import Undefined, evaluate
from circ.lang.layout import Value, format_value, unflatten
from circ.learn.catalog import Catalog
from circ.runtime.values import from_batch, to_batch
from circ.verify.reference import ReferenceProvider

GRID_DENSITY = 0.6  # the shipped 5×5 circuits err on sparser grids (up to 7.5% of grids at 0.1)


@dataclass(frozen=True)
class Problem:
    name: str
    uses: tuple[str, ...]  # stdlib modules
    signature: str  # "(g: Grid[5, 5]) -> Grid[5, 5]"
    intended: str  # the hidden program's body expression
    examples: int = 4
    contracts: str = ""  # optional `requires …`/`ensures …` clauses of the spec

    @property
    def header(self) -> str:
        return "".join(f"use stdlib.{m};\n" for m in self.uses)

    def intended_program(self) -> str:
        contracts = f"\n  {self.contracts}" if self.contracts else ""
        return f"{self.header}\nfn {self.name}{self.signature}{contracts}\n{{\n  {self.intended}\n}}\n"


def inputs(problem: Problem, n: int, seed: int) -> list[dict[str, Value]]:
    """`n` distinct seeded inputs inside the problem's `requires`."""
    compiled = api.compile("<problem>", problem.name, source=problem.intended_program())
    requires = [c for c in compiled.checked.function(problem.name).decl.contracts if c.kind == "requires"]
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Value]] = []
    seen: set[str] = set()
    for _ in range(100 * n):
        row = {name: _draw(t, rng) for name, t in compiled.params}
        key = format_value(list(row.values()))
        try:
            inside = all(evaluate(c.expr, row) for c in requires)
        except Undefined:
            inside = False
        if inside and key not in seen:
            seen.add(key)
            rows.append(row)
        if len(rows) == n:
            break
    return rows


def _draw(t: T.Type, rng: np.random.Generator) -> Value:
    if isinstance(t, T.GridT):
        cells = np.where(rng.random(t.h * t.w) < GRID_DENSITY, rng.integers(1, 10, t.h * t.w), 0)
        return unflatten(t, cells.tolist())
    return unflatten(t, [int(rng.integers(leaf.low, leaf.high + 1)) for leaf in T.parts(t)])


def reference_outputs(
    program: str, entry: str, rows: list[dict[str, Value]], catalog: Catalog
) -> list[Value]:
    """What `entry` of `program` computes on `rows` with every circuit replaced by its reference."""
    compiled = api.compile("<problem>", entry, source=program)
    ran = api.run(compiled, to_batch(rows, compiled.params), ReferenceProvider(catalog))
    return from_batch(compiled.checked.function(entry).signature.result, ran.execution.output)


def spec_source(problem: Problem, catalog: Catalog, seed: int = 0) -> str:
    """The `.circ` spec: the signature, the examples the hidden program gives, the contracts."""
    rows = inputs(problem, problem.examples, seed)
    outputs = reference_outputs(problem.intended_program(), problem.name, rows, catalog)
    lines = [problem.header, f"synth fn {problem.name}{problem.signature}", "  examples {"]
    for row, output in zip(rows, outputs, strict=True):
        shown = [format_value(v) for v in row.values()]
        given = shown[0] if len(shown) == 1 else "(" + ", ".join(shown) + ")"
        lines.append(f"    {given}\n      -> {format_value(output)};")
    lines.append("  }")
    if problem.contracts:
        lines.append(f"  {problem.contracts}")
    return "\n".join(lines) + ";\n"


def generalises(problem: Problem, program: str, catalog: Catalog, n: int = 50, seed: int = 1) -> bool:
    """Whether a found program computes what the hidden one does on `n` held-out inputs (both on the
    reference semantics: this asks about the program, not about its circuits)."""
    rows = inputs(problem, n, seed)
    return reference_outputs(program, problem.name, rows, catalog) == reference_outputs(
        problem.intended_program(), problem.name, rows, catalog
    )


def circuit_mistakes(
    problem: Problem, catalog: Catalog, provider: CircuitProvider, seed: int = 0
) -> list[int]:
    """The examples on which the hidden program, run on the learned circuits, differs from its
    reference semantics: where a circuit is wrong, no search over circuits can fit the example."""
    rows = inputs(problem, problem.examples, seed)
    compiled = api.compile("<problem>", problem.name, source=problem.intended_program())
    ran = api.run(compiled, to_batch(rows, compiled.params), provider)
    got = from_batch(compiled.checked.function(problem.name).signature.result, ran.execution.output)
    want = reference_outputs(problem.intended_program(), problem.name, rows, catalog)
    return [i for i, (a, b) in enumerate(zip(got, want, strict=True), 1) if a != b]
