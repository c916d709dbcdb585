"""Renderings of a `circ verify` report: rich text for people, a JSON object for machines."""

from __future__ import annotations

import math

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from circ.cli.show_run import step_label
from circ.lang.diagnostics import render
from circ.lang.layout import format_value
from circ.learn.catalog import CertificateRecord
from circ.verify.circuits import CircuitCheck
from circ.verify.properties import BUDGET_S, PropertyResult
from circ.verify.prove import Obligation
from circ.verify.report import Report, format_bound

_STATUS = {
    "proved": "[green]✓ proved  [/]",
    "refuted": "[red]✗ refuted [/]",
    "unknown": "[yellow]? unproved[/]",
    "unproved": "[yellow]? unproved[/]",
    "decided": "[green]✓ checked [/]",  # undecided by Z3, then true on every input of a small domain
}


def percent(rate: float) -> str:
    """Rounded down, so anything short of every point never reads as 100%."""
    return f"{math.floor(rate * 10_000) / 100:.2f}%"


def report_view(report: Report, sources: dict[str, str], timeout: float, examples: int) -> RenderableType:
    parts: list[RenderableType] = [Text(f"circ verify {report.path}", style="bold")]
    parts.append(Text(f"\ncomposition proofs (Z3, {timeout:g} s per obligation)", style="bold"))
    if not report.obligations:
        parts.append(Text("  nothing to prove: no contracts, and no calls with `requires`", style="dim"))
    for o in report.obligations:
        parts.append(
            Text.from_markup(
                f"  {_STATUS[o.status]}  {escape(_title(o))}  [dim]{o.span}  {o.seconds:.3f} s[/]"
            )
        )
    for o in report.obligations:
        if o.status != "proved":
            parts.append(Text(render(o.diagnostic(), sources)))
    held = sorted({c.certificate.precision for c in report.circuits if c.certificate is not None})
    parts.append(Text("\ncircuits" + (f" (certificates in {', '.join(held)})" if held else ""), style="bold"))
    parts.append(_circuits(report.circuits) if report.circuits else Text("  none", style="dim"))
    for c in report.circuits:
        if c.unavailable:
            parts.append(Text(f"  circuit unavailable: {c.learned}: {c.unavailable}", style="red"))
        elif c.refused:
            parts.append(Text(f"  {c.refused}", style="red"))
        for sample in c.certificate.samples if c.certificate is not None else ():
            parts.append(
                Text(
                    f"  {c.learned}: {sample.errors:,} wrong of {sample.n:,} {sample.name} inputs,"
                    f" error rate ≤ {sample.upper95:.2g} (95%)",
                    style="yellow" if not sample.errors else "red",
                )
            )
    parts.append(Text(f"\nproperty tests (Hypothesis, up to {examples} inputs per function)", style="bold"))
    parts.append(_properties(report.properties))
    for p in report.properties:
        if p.failure is not None:
            parts.append(_failure(p))
    if any(c.certificate is not None for c in report.circuits):
        bound = format_bound(report.union_bound, report.circuits)
        parts.append(Text(f"\nunion bound on the program's error rate: {bound}"))
    ok, undecided = report.verdict == "certified", report.verdict.startswith(("unproved", "verified"))
    style = "bold green" if ok else "bold yellow" if undecided else "bold red"
    parts.append(Text.assemble("\nverdict: ", (report.verdict, style)))
    return Group(*parts)


def _title(o: Obligation) -> str:
    return f"in {o.function}: {o.title}" if o.kind == "requires" else o.title


def certificate_text(cert: CertificateRecord) -> Text:
    """`100.00% exhaustive`, `100.00% bounds`, `99.98% sampled` — the method named, never rounded up."""
    style = "green" if cert.certified else "yellow" if cert.sampled and cert.accuracy == 1.0 else "red"
    shown = "100%" if cert.accuracy == 1.0 else percent(cert.accuracy)
    return Text(f"{shown} {cert.method}", style=style)


def _certificate(c: CircuitCheck) -> Text:
    if c.unavailable:
        return Text("unavailable", style="red")
    if c.certificate is None:
        return Text("refused" if c.refused else "no certificate", style="red")
    return certificate_text(c.certificate)


def _circuits(circuits: tuple[CircuitCheck, ...]) -> Table:
    table = Table(header_style="bold")
    for column in ("circuit", "catalog", "calls", "certificate", "task meets contract"):
        justify = "right" if column == "calls" else "left"
        table.add_column(column, justify=justify, overflow="fold", no_wrap=column != "task meets contract")
    for c in circuits:
        status = c.conformance.status if c.conformance is not None else None
        mark = {"all": "✓ ", "proved": "✓ ", "broken": "✗ ", "sampled": "~ ", "unknown": "? "}.get(status, "")
        style = {"all": "green", "proved": "green", "broken": "red", "sampled": "yellow"}.get(status, "dim")
        detail = c.conformance.detail if c.conformance is not None else ""
        table.add_row(c.name, c.learned, str(c.calls), _certificate(c), Text(mark + detail, style=style))
    return table


def _properties(properties: tuple[PropertyResult, ...]) -> Table:
    table = Table(header_style="bold")
    for column in ("function", "inputs", "skipped", "result", "time"):
        table.add_column(column, justify="right" if column in ("inputs", "skipped", "time") else "left")
    for p in properties:
        if p.unavailable:
            result = Text("not run: circuit unavailable", style="red")
        elif p.failure is not None:
            result = Text(f"failed (shrunk in {p.shrinks} more runs)", style="red")
        else:
            result = Text("passed" + ("" if p.no_reference is None else " (contracts only)"), style="green")
            if p.out_of_time:
                result.append(f" (stopped at the {BUDGET_S:.0f} s budget)", style="yellow")
        table.add_row(p.function, str(p.examples), str(p.skipped), result, f"{p.seconds:.2f} s")
    return table


def _failure(p: PropertyResult) -> RenderableType:
    f = p.failure
    assert f is not None
    given = ", ".join(f"{name} = {format_value(value)}" for name, value in f.inputs)
    lines = [
        Text.from_markup(
            f"\n[bold red]{escape(p.function)}[/] fails on the minimal input [bold]{escape(given)}[/]"
        )
    ]
    lines += [Text(f"  {reason}") for reason in f.reasons]
    lines.append(Text.from_markup(f"  [bold]trace[/]  {escape(f.signature)}"))
    for i, step in enumerate(f.steps):  # plain lines rather than a Tree, which crops at the width
        branch = "└──" if i == len(f.steps) - 1 else "├──"
        lines.append(Text.from_markup(f"  {branch} {step_label(step)}"))
    return Group(*lines)


def report_json(report: Report) -> dict:
    return {
        "file": report.path,
        "verdict": report.verdict,
        "ok": report.ok,
        "obligations": [_obligation_json(o) for o in report.obligations],
        "circuits": [_circuit_json(c) for c in report.circuits],
        "properties": [_property_json(p) for p in report.properties],
        "union_bound": report.union_bound,
    }


def _obligation_json(o: Obligation) -> dict:
    return {
        "function": o.function,
        "kind": o.kind,
        "clause": o.text,
        "call": o.call or None,
        "callee": o.callee,
        "location": str(o.span),
        "status": o.status,
        "seconds": round(o.seconds, 4),
        "counter_model": dict(o.counter_model) if o.status == "refuted" else None,
        "arguments": dict(o.arguments) if o.arguments else None,
        "reason": o.reason or None,
    }


def _circuit_json(c: CircuitCheck) -> dict:
    cert = c.certificate
    return {
        "name": c.name,
        "catalog": c.learned,
        "calls": c.calls,
        "unavailable": c.unavailable,
        "certificate": None
        if cert is None
        else {
            "method": cert.method,
            "accuracy": cert.accuracy,
            "sampled": cert.sampled,
            "domain_size": cert.domain_size,
            "n_checked": cert.n_checked,
            "certified": cert.certified,
            "error_bound": cert.error_bound,
            "weights_sha256": cert.weights_sha256,
            "precision": cert.precision,
            "backend": cert.backend,
            "min_margin": cert.min_margin,
            "samples": [x.to_dict() for x in cert.samples],
        },
        "refused": c.refused,
        "contract_check": None if c.conformance is None else c.conformance.detail,
        "contract_status": None if c.conformance is None else c.conformance.status,
        "conforms": c.conforms,
    }


def _property_json(p: PropertyResult) -> dict:
    failure = None
    if p.failure is not None:
        f = p.failure
        failure = {
            "input": {name: format_value(value) for name, value in f.inputs},
            "output": format_value(f.output),
            "expected": None if f.expected is None else format_value(f.expected),
            "reasons": list(f.reasons),
            "trace": [
                {
                    "step": s.what,
                    "inputs": [format_value(v) for v in s.inputs],
                    "output": format_value(s.output),
                    "confidence": s.confidence,
                    "ensures": s.ensures,
                    "location": str(s.span),
                }
                for s in f.steps
            ],
        }
    return {
        "function": p.function,
        "inputs": p.examples,
        "shrinks": p.shrinks,
        "skipped": p.skipped,
        "seconds": round(p.seconds, 3),
        "passed": p.passed,
        "unavailable": p.unavailable,
        "no_reference": p.no_reference,
        "out_of_time": p.out_of_time,
        "failure": failure,
    }
