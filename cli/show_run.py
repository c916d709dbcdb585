"""Rich renderings of a program run: a results table, per-row traces, and JSON lines."""

from __future__ import annotations

import json

import torch
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from circ.api import Ran
from circ.lang.layout import format_value
from circ.runtime.trace import Step
from circ.runtime.values import from_batch


def _columns(ran: Ran) -> tuple[list[list[object]], list[object], list[float | None]]:
    inputs = [from_batch(t, x) for (_, t), x in zip(ran.params, ran.inputs, strict=True)]
    signature = ran.compiled.checked.function(ran.compiled.entry).signature
    outputs = from_batch(signature.result, ran.execution.output)
    confidences = list(ran.execution.confidence.values())
    confidence: list[float | None] = [None] * ran.rows
    if confidences:  # the least confident circuit bounds the row's confidence
        confidence = torch.stack(confidences).min(dim=0).values.tolist()
    return inputs, outputs, confidence


def results_table(ran: Ran, limit: int) -> Table:
    inputs, outputs, confidence = _columns(ran)
    table = Table(header_style="bold")
    for name, _ in ran.params:
        table.add_column(name)
    table.add_column(ran.compiled.entry + "(…)", style="bold cyan")
    table.add_column("confidence", justify="right")
    for row in range(min(limit, ran.rows)):
        cells = [escape(format_value(column[row])) for column in inputs]
        sure = "—" if confidence[row] is None else f"{confidence[row]:.4f}"
        table.add_row(*cells, escape(format_value(outputs[row])), sure)
    return table


def json_lines(ran: Ran) -> list[str]:
    inputs, outputs, confidence = _columns(ran)
    names = [name for name, _ in ran.params]
    return [
        json.dumps(
            {
                "inputs": {n: c[row] for n, c in zip(names, inputs, strict=True)},
                "output": outputs[row],
                "confidence": confidence[row],
            }
        )
        for row in range(ran.rows)
    ]


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
    check = {True: "[green]ensures ✓[/]", False: "[red]ensures ✗[/]", None: "[dim]no contract here[/]"}
    return (
        f"[cyan]{escape(step.what)}[/]({args}) = [bold]{escape(format_value(step.output))}[/]"
        f"  p={step.confidence:.4f}  {check[step.ensures]}  {where}"
    )
