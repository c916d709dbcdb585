"""Property-based testing (DESIGN §6.3): each function, compiled and run on its circuits, against
the reference semantics on inputs Hypothesis generates from its parameter types.

An input fails when the output differs from the reference program's (every circuit replaced by its
task's reference function), when it breaks the function's `ensures`, or when a circuit call in its
trace breaks the circuit's own `ensures` (what the proofs assumed). Inputs outside the function's
`requires` are skipped. Hypothesis shrinks the first failure to a minimal input, which is run again
with a trace.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import networkx as nx
import torch
from hypothesis import HealthCheck, find, settings
from hypothesis.errors import NoSuchExample

from circ.circuit.provider import CircuitProvider, CircuitUnavailable
from circ.compiler.lower import lower
from circ.compiler.passes import optimize
from circ.lang.check import Checked
from circ.lang.evaluate import Undefined, evaluate
from circ.lang.layout import format_value
from circ.runtime.execute import execute
from circ.runtime.torch_backend import TorchBackend
from circ.runtime.trace import Step, trace_row
from circ.runtime.values import from_batch, to_batch
from circ.verify.strategies import arguments

DEFAULT_EXAMPLES = 100


@dataclass(frozen=True)
class Failure:
    """The minimal failing input Hypothesis shrank to, what was wrong, and its trace."""

    inputs: tuple[tuple[str, object], ...]
    output: object
    expected: object | None  # the reference program's output (None: no reference)
    reasons: tuple[str, ...]
    steps: tuple[Step, ...]
    signature: str


BUDGET_S = 60.0  # property tests per function: a slow program stops here, its count says how far it got


@dataclass(frozen=True)
class PropertyResult:
    function: str
    examples: int  # inputs checked before the first failure (all of them when none failed)
    shrinks: int  # inputs checked while shrinking a failure
    skipped: int  # inputs outside the function's `requires`
    seconds: float
    failure: Failure | None = None
    unavailable: str | None = None  # why the compiled program could not run at all
    no_reference: str | None = None  # why there is no reference program (contracts are still checked)
    out_of_time: bool = False  # stopped at BUDGET_S with fewer inputs than asked (the count says how many)

    @property
    def passed(self) -> bool:
        return self.failure is None and self.unavailable is None


def check_program(
    checked: Checked,
    provider: CircuitProvider,
    reference: CircuitProvider | None,
    *,
    examples: int = DEFAULT_EXAMPLES,
    seed: int = 0,
    device: str = "cpu",
) -> list[PropertyResult]:
    """Property-test every function of the root file."""
    functions = [s.name for s in checked.symbols() if s.kind == "fn"]
    return [
        check_function(checked, name, provider, reference, examples=examples, seed=seed, device=device)
        for name in functions
    ]


def check_function(
    checked: Checked,
    name: str,
    provider: CircuitProvider,
    reference: CircuitProvider | None,
    *,
    examples: int = DEFAULT_EXAMPLES,
    seed: int = 0,
    device: str = "cpu",
) -> PropertyResult:
    start = time.perf_counter()
    runner = _Runner(checked, name, provider, reference, device)
    if runner.unavailable:
        return PropertyResult(name, 0, 0, 0, time.perf_counter() - start, unavailable=runner.unavailable)
    counts = {"examples": 0, "shrinks": 0, "skipped": 0}

    def fails(row: dict[str, object]) -> bool:
        if time.perf_counter() - start > BUDGET_S and not counts["shrinks"]:
            raise _OutOfTime
        if not runner.admits(row):
            counts["skipped"] += 1
            return False
        failed = bool(runner.check(row)[0])
        counts["shrinks" if counts["shrinks"] or failed else "examples"] += 1
        return failed

    config = settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    failure, out_of_time = None, False
    threads = torch.get_num_threads()
    # One row at a time is far too small to split across threads; on a busy CPU the thread pool's
    # synchronisation made each tiny forward pass 50× slower (6 ms instead of 0.12 ms) here.
    torch.set_num_threads(1)
    try:
        minimal = find(arguments(runner.params), fails, settings=config, random=random.Random(seed))
        failure = runner.failure(minimal)
    except NoSuchExample:
        pass
    except _OutOfTime:
        out_of_time = True
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - start
    return PropertyResult(
        name,
        counts["examples"],
        counts["shrinks"],
        counts["skipped"],
        seconds,
        failure,
        None,
        runner.no_reference,
        out_of_time,
    )


class _OutOfTime(Exception):
    """Raised from inside Hypothesis's search when a function's property tests pass BUDGET_S."""


class _Runner:
    """One function compiled once, run row by row on its circuits and on the reference."""

    def __init__(
        self,
        checked: Checked,
        name: str,
        provider: CircuitProvider,
        reference: CircuitProvider | None,
        device: str,
    ) -> None:
        self.symbol = checked.function(name)
        self.params = list(self.symbol.signature.params)
        self.graph = lower(checked, name)  # traced when a row fails
        self.compiled = optimize(self.graph)  # what runs: batched calls, a few times faster per row
        self.unavailable = self.no_reference = None
        self.backend = TorchBackend(provider, device)
        self.reference = TorchBackend(reference, device) if reference is not None else None
        try:
            self.backend.prepare(self.compiled)
        except CircuitUnavailable as exc:
            self.unavailable = str(exc)
        if self.reference is None:
            self.no_reference = "no reference semantics given"
        else:
            try:
                self.reference.prepare(self.compiled)
            except CircuitUnavailable as exc:
                self.reference, self.no_reference = None, str(exc)

    def admits(self, row: dict[str, object]) -> bool:
        try:
            return all(evaluate(c.expr, row) for c in self.symbol.decl.contracts if c.kind == "requires")
        except Undefined:
            return False

    def check(self, row: dict[str, object], graph: nx.MultiDiGraph | None = None):
        """(what is wrong, output, reference output, execution) for one row; with a `graph`, the
        execution keeps every node's value for a trace."""
        inputs = to_batch([row], self.params)
        execution = execute(graph or self.compiled, inputs, self.backend, keep=graph is not None)
        result_type = self.symbol.signature.result
        output = from_batch(result_type, execution.output)[0]
        reasons = []
        expected = None
        if self.reference is not None:
            expected = from_batch(result_type, execute(self.compiled, inputs, self.reference).output)[0]
            if expected != output:
                reasons.append(
                    f"returns {format_value(output)}, the reference program {format_value(expected)}"
                )
        scope = {**row, "result": output}
        for clause in self.symbol.decl.contracts:
            if clause.kind == "ensures":
                try:
                    if not evaluate(clause.expr, scope):
                        reasons.append(f"breaks its `ensures` at {clause.expr.span}")
                except Undefined as exc:  # as in the proofs: an `ensures` must be defined
                    reasons.append(f"its `ensures` at {clause.expr.span} is undefined here ({exc})")
        return reasons, output, expected, execution

    def failure(self, row: dict[str, object]) -> Failure:
        reasons, output, expected, execution = self.check(row, self.graph)
        steps = tuple(trace_row(self.graph, execution, 0))
        inputs = tuple((name, row[name]) for name, _ in self.params)
        return Failure(inputs, output, expected, tuple(reasons), steps, self.graph.graph["signature"])
