"""Judging a candidate that fits the examples: is it the program the spec asks for?

In order: it reproduces every example on the learned circuits; its `ensures` holds on the whole
input domain when that is small enough to run (every row checked by the contract evaluator); and
`circ verify` — Z3 proofs of its contracts from the circuits' contracts, the circuits' certificates,
property tests against the reference semantics — gives the verdict, in its own words (`certified`,
`verified (sampled)`, `failed: …`).

A failure is the *program's* only when its reference semantics (every circuit replaced by its task's
reference function) breaks the spec too: then the candidate is rejected, with the input as a
counterexample for the search. When only the circuits err — the program on the circuits differs
from the same program on the references — the program is the right composition and is kept, and the
verdict names the circuit mistake it met (a catalog to retrain, not a search to continue).
"""

from __future__ import annotations

from dataclasses import dataclass

from circ import api
from circ.circuit.provider import CircuitProvider, CircuitUnavailable
from circ.lang.check import Checked
from circ.lang.diagnostics import CircError, render
from circ.lang.evaluate import Undefined, evaluate
from circ.lang.layout import Value, format_value
from circ.learn.catalog import Catalog
from circ.runtime.values import (
    InputError,
    check_value,
    domain_batch,
    domain_size,
    from_batch,
    parse_text,
    to_batch,
)
from circ.synth.spec import Spec
from circ.verify.properties import Failure
from circ.verify.reference import ReferenceProvider
from circ.verify.report import Report, verify_program

DOMAIN_CHECK_LIMIT = 20_000  # inputs whose ensures is checked row by row (Python evaluator)
VERIFY_EXAMPLES = 30  # property-test inputs per function


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    verdict: str  # circ verify's verdict, "not verified", or why the candidate was rejected
    checks: tuple[str, ...]  # what was checked, one line each
    report: Report | None = None
    counterexample: tuple[Value, ...] | None = None  # an input (per parameter) where it breaks the spec
    circuit_mistakes: tuple[str, ...] = ()  # inputs where a circuit, not the program, was wrong


def judge(
    spec: Spec,
    program: str,
    catalog: Catalog,
    provider: CircuitProvider,
    *,
    verify: bool = True,
    device: str = "cpu",
) -> Verdict:
    checks: list[str] = []
    mistakes: list[str] = []
    try:
        compiled = api.compile(spec.path, spec.name, source=program)
    except CircError as exc:
        shown = "\n".join(render(d, {**exc.sources, spec.path: program}) for d in exc.diagnostics)
        return Verdict(False, "does not check", (shown,))
    try:
        wrong = _example_mismatch(spec, compiled, provider, device)
        if wrong:
            return Verdict(False, "breaks an example", (wrong,))
        if spec.examples:
            checks.append(f"matches all {len(spec.examples)} examples on the learned circuits")
        if spec.contracts("ensures") and domain_size(spec.params) <= DOMAIN_CHECK_LIMIT:
            broken, rows, where, slips = _domain_check(spec, compiled, provider, ReferenceProvider(catalog))
            if broken:
                return Verdict(False, "breaks its ensures", (broken,), counterexample=where)
            mistakes += slips
            held = rows - len(slips)
            checks.append(
                f"its ensures holds on {held:,} of all {rows:,} inputs, run on the learned circuits"
            )
    except CircuitUnavailable as exc:
        return Verdict(False, "cannot run", (str(exc),))
    if not verify:
        return Verdict(True, "not verified", tuple(checks), circuit_mistakes=tuple(mistakes))
    checked = api.check(spec.path, program)
    report = verify_program(checked, catalog, examples=VERIFY_EXAMPLES, device=device, entry=spec.name)
    refuted = [o for o in report.obligations if o.status == "refuted"]
    failed = [p for p in report.properties if p.failure is not None]
    own = [p for p in failed if _program_is_wrong(spec, checked, p.function, p.failure)]
    if refuted or own:
        why = [o.diagnostic().message for o in refuted] + [
            f"property test of {p.function}: {'; '.join(p.failure.reasons)}" for p in own
        ]
        inputs = next((dict(p.failure.inputs) for p in own if p.function == spec.name), None)
        where = tuple(inputs[n] for n, _ in spec.params) if inputs else _counter_model(spec, refuted)
        return Verdict(False, report.verdict, tuple(why), report, where)
    for p in failed:
        shown = ", ".join(f"{n} = {format_value(v)}" for n, v in p.failure.inputs)
        mistakes.append(f"{p.function}({shown}): {'; '.join(p.failure.reasons)}")
    proved = [o for o in report.obligations if o.status == "proved"]
    if proved:
        checks.append(f"{len(proved)} obligation{'s' * (len(proved) > 1)} proved by Z3")
    tested = sum(p.examples for p in report.properties)
    checks.append(f"{tested} property-test inputs run against the reference semantics")
    return Verdict(True, report.verdict, tuple(checks), report, circuit_mistakes=tuple(mistakes))


def _program_is_wrong(spec: Spec, checked: Checked, function: str, failure: Failure) -> bool:
    """Whether a property-test failure is the program's: the function's reference output breaks its
    own `ensures` (the spec's, for the function searched for). With no reference to compare, it is."""
    if failure.expected is None:
        return True
    decl = spec.decl if function == spec.name else checked.function(function).decl
    env = dict(failure.inputs)
    try:
        ensures = [c for c in decl.contracts if c.kind == "ensures"]
        return not all(evaluate(c.expr, {**env, "result": failure.expected}) for c in ensures)
    except Undefined:
        return True


def _counter_model(spec: Spec, refuted: list) -> tuple[Value, ...] | None:
    """The parameters of Z3's counter-model to the searched function's contract, as values (the model
    may rely on a circuit answer only its contract allows; as an extra row for the search it is safe)."""
    for obligation in refuted:
        model = dict(obligation.counter_model)
        if obligation.function == spec.name and all(n in model for n, _ in spec.params):
            try:
                return tuple(check_value(n, t, parse_text(model[n])) for n, t in spec.params)
            except InputError:
                return None
    return None


def _example_mismatch(spec: Spec, compiled: api.Compiled, provider: CircuitProvider, device: str) -> str:
    if not spec.examples:
        return ""
    rows = [dict(zip((n for n, _ in spec.params), e.inputs, strict=True)) for e in spec.examples]
    ran = api.run(compiled, to_batch(rows, spec.params), provider, device=device)
    outputs = from_batch(spec.result, ran.execution.output)
    for i, (example, got) in enumerate(zip(spec.examples, outputs, strict=True), 1):
        if got != example.output:
            shown = ", ".join(map(format_value, example.inputs))
            want = format_value(example.output)
            return f"example {i}: {spec.name}({shown}) gives {format_value(got)}, not {want}"
    return ""


def _domain_check(
    spec: Spec, compiled: api.Compiled, provider: CircuitProvider, reference: CircuitProvider
) -> tuple[str, int, tuple[Value, ...] | None, list[str]]:
    """The first input where the program's reference semantics breaks the `ensures` (inputs outside
    the `requires` skipped), the rows checked, that input, and where only the circuits broke it."""
    inputs = domain_batch(spec.params)
    outputs = from_batch(spec.result, api.run(compiled, inputs, provider).execution.output)
    names = [n for n, _ in spec.params]
    columns = [from_batch(t, x) for (_, t), x in zip(spec.params, inputs, strict=True)]
    envs = [{n: c[row] for n, c in zip(names, columns, strict=True)} for row in range(len(outputs))]
    broken = [row for row, result in enumerate(outputs) if not _meets(spec, envs[row], result)]
    if not broken:
        return "", len(outputs), None, []
    expected = from_batch(spec.result, api.run(compiled, inputs, reference).execution.output)
    slips = []
    for row in broken:
        shown = ", ".join(f"{n} = {format_value(envs[row][n])}" for n in names)
        if not _meets(spec, envs[row], expected[row]):
            where = tuple(envs[row][n] for n in names)
            return (
                f"breaks its ensures at {shown}: result = {format_value(expected[row])}",
                len(outputs),
                where,
                [],
            )
        slips.append(f"{spec.name}({shown}) gives {format_value(outputs[row])} on the circuits")
    return "", len(outputs), None, slips


def _meets(spec: Spec, env: dict[str, Value], result: Value) -> bool:
    try:
        if not all(evaluate(c.expr, env) for c in spec.contracts("requires")):
            return True
        return all(evaluate(c.expr, {**env, "result": result}) for c in spec.contracts("ensures"))
    except Undefined:
        return False
