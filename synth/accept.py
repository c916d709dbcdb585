"""Judging a candidate that fits the examples: is it the program the spec asks for?

In order, each on the learned circuits: it reproduces every example; its `ensures` holds on the whole
input domain when that is small enough to run (every row checked by the contract evaluator); and
`circ verify` — Z3 proofs of its contracts from the circuits' contracts, the circuits' certificates,
property tests against the reference semantics — gives the verdict. A refuted contract, a broken
example or a failed property test rejects the candidate and the search goes on; the verdict is
reported as `circ verify` words it (`certified`, `verified (sampled)`, `failed: …`).
"""

from __future__ import annotations

from dataclasses import dataclass

from circ import api
from circ.circuit.provider import CircuitProvider, CircuitUnavailable
from circ.lang.diagnostics import CircError, render
from circ.lang.evaluate import Undefined, evaluate
from circ.lang.layout import format_value
from circ.learn.catalog import Catalog
from circ.runtime.values import domain_batch, domain_size, from_batch, to_batch
from circ.synth.spec import Spec
from circ.verify.report import Report, verify_program

DOMAIN_CHECK_LIMIT = 20_000  # inputs whose ensures is checked row by row (Python evaluator)
VERIFY_EXAMPLES = 30  # property-test inputs per function


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    verdict: str  # circ verify's verdict, "not verified", or why the candidate was rejected
    checks: tuple[str, ...]  # what was checked, one line each
    report: Report | None = None


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
            broken, rows = _domain_check(spec, compiled, provider, device)
            if broken:
                return Verdict(False, "breaks its ensures", (broken,))
            checks.append(f"its ensures holds on all {rows:,} inputs, run on the learned circuits")
    except CircuitUnavailable as exc:
        return Verdict(False, "cannot run", (str(exc),))
    if not verify:
        return Verdict(True, "not verified", tuple(checks))
    report = verify_program(
        api.check(spec.path, program), catalog, examples=VERIFY_EXAMPLES, device=device, entry=spec.name
    )
    refuted = [o for o in report.obligations if o.status == "refuted"]
    failed = [p for p in report.properties if p.failure is not None]
    if refuted or failed:
        why = [o.diagnostic().message for o in refuted] + [
            f"property test of {p.function}: {'; '.join(p.failure.reasons)}" for p in failed
        ]
        return Verdict(False, report.verdict, tuple(why), report)
    proved = [o for o in report.obligations if o.status == "proved"]
    if proved:
        checks.append(f"{len(proved)} obligation{'s' * (len(proved) > 1)} proved by Z3")
    tested = sum(p.examples for p in report.properties)
    checks.append(f"{tested} property-test inputs agree with the reference semantics")
    return Verdict(True, report.verdict, tuple(checks), report)


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
    spec: Spec, compiled: api.Compiled, provider: CircuitProvider, device: str
) -> tuple[str, int]:
    """The first input whose output breaks the `ensures` (inputs outside the `requires` skipped)."""
    inputs = domain_batch(spec.params)
    ran = api.run(compiled, inputs, provider, device=device)
    names = [n for n, _ in spec.params]
    columns = [from_batch(t, x) for (_, t), x in zip(spec.params, inputs, strict=True)]
    outputs = from_batch(spec.result, ran.execution.output)
    for row, result in enumerate(outputs):
        env = {n: c[row] for n, c in zip(names, columns, strict=True)}
        try:
            if not all(evaluate(c.expr, env) for c in spec.contracts("requires")):
                continue
            holds = all(evaluate(c.expr, {**env, "result": result}) for c in spec.contracts("ensures"))
        except Undefined:
            holds = False
        if not holds:
            shown = ", ".join(f"{n} = {format_value(env[n])}" for n in names)
            return f"breaks its ensures at {shown}: result = {format_value(result)}", len(outputs)
    return "", len(outputs)
