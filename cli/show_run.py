"""Rich renderings of a program run: a results table, per-row traces, and JSON lines."""

from __future__ import annotations

import json

from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from circ.api import Ran
from circ.lang.layout import format_value
from circ.runtime.trace import Step, trace_row
from circ.runtime.values import from_batch
from circ.verify.row_contracts import (
    ENSURES_FAILED,
    HELD,
    NONE,
    REQUIRES_FAILED,
    UNDEFINED,
    RowContracts,
    check_rows,
)


def _columns(ran: Ran) -> tuple[list[list[object]], list[object], list[float | None]]:
    inputs = [from_batch(t, x) for (_, t), x in zip(ran.params, ran.inputs, strict=True)]
    signature = ran.compiled.checked.function(ran.compiled.entry).signature
    outputs = from_batch(signature.result, ran.execution.output)
    least = ran.execution.row_confidence()  # the least confident call each row's answer needs
    confidence: list[float | None] = [None] * ran.rows if least is None else least.tolist()
    return inputs, outputs, confidence


def row_contracts(ran: Ran) -> RowContracts:
    """Each row against the entry's own `requires` / `ensures`."""
    symbol = ran.compiled.checked.function(ran.compiled.entry)
    return check_rows(symbol.decl, ran.params, symbol.signature.result, ran.inputs, ran.execution.output)


_STATUS_STYLE = {HELD: "green", NONE: "dim"}


def results_table(ran: Ran, limit: int, contracts: RowContracts) -> Table:
    inputs, outputs, confidence = _columns(ran)
    table = Table(header_style="bold")
    for name, _ in ran.params:
        table.add_column(name)
    table.add_column(ran.compiled.entry + "(…)", style="bold cyan")
    table.add_column("confidence", justify="right")
    table.add_column("contract")
    for row in range(min(limit, ran.rows)):
        cells = [escape(format_value(column[row])) for column in inputs]
        sure = "—" if confidence[row] is None else f"{confidence[row]:.4f}"
        status = contracts.status[row]
        shown = f"[{_STATUS_STYLE.get(status, 'bold red')}]{escape('✓' if status == HELD else status)}[/]"
        table.add_row(*cells, escape(format_value(outputs[row])), sure, shown)
    return table


def contract_summary(ran: Ran, contracts: RowContracts) -> str | None:
    """One line when any row is outside the entry's contract or breaks it (rich markup), else None."""
    entry, rows = ran.compiled.entry, ran.rows
    parts = []
    if n := contracts.count(REQUIRES_FAILED):
        parts.append(f"{n:,} of {rows:,} rows break `{entry}`'s requires: their answers promise nothing")
    if n := contracts.count(ENSURES_FAILED):
        parts.append(f"{n:,} of {rows:,} answers break `{entry}`'s ensures")
    if n := contracts.count(UNDEFINED):
        parts.append(f"{n:,} of {rows:,} answers leave `{entry}`'s ensures undefined")
    return "[bold red]" + escape("; ".join(parts)) + "[/]" if parts else None


def json_lines(ran: Ran, contracts: RowContracts, traces: bool = False) -> list[str]:
    inputs, outputs, confidence = _columns(ran)
    names = [name for name, _ in ran.params]
    lines = []
    for row in range(ran.rows):
        record = {
            "inputs": {n: c[row] for n, c in zip(names, inputs, strict=True)},
            "output": outputs[row],
            "confidence": confidence[row],
            "contract": contracts.status[row],
        }
        if traces:
            record["trace"] = [step_json(s) for s in trace_row(ran.graph, ran.execution, row)]
        lines.append(json.dumps(record))
    return lines


def step_json(step: Step) -> dict[str, object]:
    """A trace step as JSON: what ran, where, on what, its answer, confidence and contract checks."""
    out: dict[str, object] = {"what": step.what, "at": str(step.span), "inputs": list(step.inputs)}
    out["output"] = step.output
    if step.confidence is not None:
        out |= {"confidence": step.confidence, "requires": step.requires, "ensures": step.ensures}
        out["taken"] = step.taken
    return out


def trace_tree(ran: Ran, row: int, everything: bool = False) -> Tree:
    """One row's reasoning trace, grouped by function (`show_trace`; summarised when long)."""
    from circ.cli.show_trace import trace_tree as grouped

    return grouped(ran, row, everything)


def step_label(step: Step) -> str:
    """One line of a trace (rich markup): an input, a circuit call with its contract check, or the output."""
    where = f"[dim]{escape(str(step.span))}[/]"
    if step.confidence is None:
        return f"{escape(step.what)} = [bold]{escape(format_value(step.output))}[/]  {where}"
    args = ", ".join(escape(format_value(a)) for a in step.inputs)
    from circ.cli.show_trace import check_text

    check = check_text(step)
    return (
        f"[cyan]{escape(step.what)}[/]({args}) = [bold]{escape(format_value(step.output))}[/]"
        f"  p={step.confidence:.4f}  [{check.style}]{escape(check.plain)}[/]  {where}"
    )
