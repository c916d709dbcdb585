"""Does a circuit's task meet the contract its declaration promises? (DESIGN §6.4)

The proofs assume a circuit's `ensures`; its certificate says the circuit equals its task; only when
the task meets that contract on every input does the chain close. So this check covers the whole
domain: every input where it can be listed (`CONFORMANCE_LIMIT`, evaluated as whole columns by
`vectorized`), a Z3 proof where the task is a known cell map (grid permutations and recolourings:
its output is a function of one input cell each), and otherwise a sample — which the verdict then
reports as sampled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import z3

from circ.lang import ast
from circ.lang.evaluate import Undefined, evaluate
from circ.lang.evaluate import satisfied as satisfied_row
from circ.lang.layout import format_value, structure, unflatten
from circ.learn.data.domain import enumerate_inputs, sample_inputs
from circ.learn.data.task import Task
from circ.verify import vectorized
from circ.verify.sorts import fresh, leaves
from circ.verify.translate import translate

CONFORMANCE_LIMIT = 10**7  # inputs evaluated one by one at most (as columns: ~1 s per 10^6 here)
CHUNK = 1 << 18
SAMPLE = 2000
PROOF_TIMEOUT_MS = 20_000


@dataclass(frozen=True)
class Conformance:
    status: str  # "all" (every input checked) | "proved" | "sampled" | "broken" | "unknown"
    detail: str  # on which inputs, or where the task breaks the contract

    @property
    def conforms(self) -> bool | None:
        """True only for the whole domain; None when only a sample (or nothing) was checked."""
        return {"all": True, "proved": True, "broken": False}.get(self.status)


def count(n: int) -> str:
    """A number of inputs as a reader takes it in: 9,409, or 10^25 (never a float for a huge int)."""
    if n < 10**7:
        return f"{n:,}"
    digits = len(str(n)) - 1
    return f"10^{digits}" if n == 10**digits else f"~10^{digits}"


def conformance(decl: ast.CircuitDecl, task: Task, strict: bool = False) -> Conformance:
    """`strict`: an `ensures` with no value on a task input (an index out of range) counts as broken,
    not as promising nothing there (what proofs assume of it either way)."""
    if task.domain_size <= CONFORMANCE_LIMIT:
        return _every_input(decl, task, strict)
    if task.cells is not None:
        return _prove_cells(decl, task, strict)
    inputs = sample_inputs(task, SAMPLE, np.random.default_rng(0))
    broken = _first_broken(decl, task, inputs, strict)
    if broken:
        return Conformance("broken", broken)
    return Conformance("sampled", f"{SAMPLE:,} sampled inputs (the domain has {count(task.domain_size)})")


def _every_input(decl: ast.CircuitDecl, task: Task, strict: bool) -> Conformance:
    inputs = enumerate_inputs(task)
    n = inputs[0].shape[0] if inputs else 0
    for start in range(0, n, CHUNK):
        broken = _first_broken(decl, task, [a[start : start + CHUNK] for a in inputs], strict)
        if broken:
            return Conformance("broken", broken)
    return Conformance("all", f"all {n:,} inputs")


def _first_broken(decl: ast.CircuitDecl, task: Task, inputs: list[np.ndarray], strict: bool) -> str | None:
    """The first input (of these) whose reference answer breaks the contract, shown in circ syntax."""
    outputs = task(*inputs)
    rows = outputs.shape[0]
    try:
        args = [vectorized.columns(t, a) for t, a in zip(task.arg_types, inputs, strict=True)]
        state = vectorized.satisfied(decl, args, vectorized.columns(task.out_type, outputs), rows)
        bad = np.flatnonzero((state == 0) | ((state == -2) & strict))
        candidates = bad[:1]
    except vectorized.TooWide:  # fall back to the exact evaluator, one row at a time
        candidates = range(rows)
    for row in candidates:
        args_row = [unflatten(t, a[row].tolist()) for t, a in zip(task.arg_types, inputs, strict=True)]
        result = unflatten(task.out_type, outputs[row].tolist())
        if _breaks(decl, args_row, result, strict):
            shown = ", ".join(map(format_value, args_row))
            return f"{task.key} gives {decl.name}({shown}) = {format_value(result)}"
    return None


def _breaks(decl: ast.CircuitDecl, args: list[object], result: object, strict: bool) -> bool:
    if not strict:
        return satisfied_row(decl, args, result) is False
    env = {p.name: a for p, a in zip(decl.params, args, strict=True)}
    try:
        if not all(evaluate(c.expr, env) for c in decl.contracts if c.kind == "requires"):
            return False
    except Undefined:
        return False
    env["result"] = result
    try:
        return not all(evaluate(c.expr, env) is True for c in decl.contracts if c.kind == "ensures")
    except Undefined:
        return True


def _prove_cells(decl: ast.CircuitDecl, task: Task, strict: bool) -> Conformance:
    """∀ inputs: requires ⇒ ensures (where defined), with the task as its cell map, by Z3."""
    (grid_type,) = task.arg_types
    g, ranges = fresh(decl.params[0].name, grid_type)
    cells = leaves(g)
    colour = task.cells.colour
    out = []
    for src in task.cells.source:
        x = cells[src]
        value = x
        for c in range(9, -1, -1):
            if colour[c] != c:
                value = z3.If(x == c, colour[c], value)
        out.append(value)
    env = {decl.params[0].name: g, "result": structure(task.out_type, out)}
    holds = [translate(c.expr, env) for c in decl.contracts if c.kind == "requires"]
    promised = z3.And(*ranges, *(z3.And(t.defined, t.value) for t in holds))
    ensures = [translate(c.expr, env) for c in decl.contracts if c.kind == "ensures"]
    claim = z3.And(
        *(z3.And(t.defined, t.value) if strict else z3.Implies(t.defined, t.value) for t in ensures)
    )
    solver = z3.Solver()
    solver.set(timeout=PROOF_TIMEOUT_MS)
    solver.add(promised, z3.Not(claim))
    answer = solver.check()
    if answer == z3.unsat:
        return Conformance("proved", f"proved on all {count(task.domain_size)} inputs (Z3)")
    if answer == z3.sat:
        model = solver.model()
        value = [[model.eval(v, model_completion=True).as_long() for v in row] for row in g]
        got = task(np.array([[c for row in value for c in row]]))
        shown = format_value(unflatten(task.out_type, got[0].tolist()))
        return Conformance("broken", f"{task.key} gives {decl.name}({format_value(value)}) = {shown}")
    return Conformance("unknown", f"Z3 could not decide it ({solver.reason_unknown()})")
