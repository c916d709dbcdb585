"""Rich renderings of a program run: a results table, per-row traces, and JSON lines."""

from __future__ import annotations

import functools
import json
from collections import Counter
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.tree import Tree

from circ.api import Ran
from circ.lang import types as T
from circ.lang.layout import format_value
from circ.runtime.trace import Step, trace_row
from circ.runtime.values import from_batch

if TYPE_CHECKING:
    import torch

from circ.verify.row_contracts import (
    ENSURES_FAILED,
    HELD,
    NONE,
    REQUIRES_FAILED,
    UNDEFINED,
    RowContracts,
    check_rows,
)


def _columns(
    ran: Ran, limit: int | None = None
) -> tuple[list[list[object]], list[object], list[float | None]]:
    """The first `limit` rows (all when None) as Python values: converting rows nobody prints was
    28 s of a 10⁶-row run (issue 19)."""
    n = ran.rows if limit is None else min(limit, ran.rows)
    inputs = [from_batch(t, x[:n]) for (_, t), x in zip(ran.params, ran.inputs, strict=True)]
    signature = ran.compiled.checked.function(ran.compiled.entry).signature
    outputs = from_batch(signature.result, ran.execution.output[:n])
    least = ran.execution.row_confidence()  # the least confident call each row's answer needs
    confidence: list[float | None] = [None] * n if least is None else least[:n].tolist()
    return inputs, outputs, confidence


def row_contracts(ran: Ran) -> RowContracts:
    """Each row against the entry's own `requires` / `ensures`."""
    symbol = ran.compiled.checked.function(ran.compiled.entry)
    return check_rows(symbol.decl, ran.params, symbol.signature.result, ran.inputs, ran.execution.output)


_STATUS_STYLE = {HELD: "green", NONE: "dim"}


def results_table(ran: Ran, limit: int, contracts: RowContracts) -> Table:
    inputs, outputs, confidence = _columns(ran, limit)
    table = Table(header_style="bold")
    for name, _ in ran.params:
        table.add_column(name)
    table.add_column(ran.compiled.entry + "(…)", style="bold cyan")
    table.add_column("confidence", justify="right")
    table.add_column("contract")
    for row in range(len(outputs)):
        cells = [escape(format_value(column[row])) for column in inputs]
        sure = "—" if confidence[row] is None else f"{confidence[row]:.4f}"
        status = contracts.status[row]
        shown = f"[{_STATUS_STYLE.get(status, 'bold red')}]{escape('✓' if status == HELD else status)}[/]"
        table.add_row(*cells, escape(format_value(outputs[row])), sure, shown)
    return table


def contract_summary(entry: str, tally: Counter[str], rows: int) -> str | None:
    """One line when any row is outside the entry's contract or breaks it (rich markup), else None;
    `tally`: how many rows had each contract status."""
    parts = []
    if n := tally[REQUIRES_FAILED]:
        parts.append(f"{n:,} of {rows:,} rows break `{entry}`'s requires: their answers promise nothing")
    if n := tally[ENSURES_FAILED]:
        parts.append(f"{n:,} of {rows:,} answers break `{entry}`'s ensures")
    if n := tally[UNDEFINED]:
        parts.append(f"{n:,} of {rows:,} answers leave `{entry}`'s ensures undefined")
    return "[bold red]" + escape("; ".join(parts)) + "[/]" if parts else None


def json_lines(ran: Ran, contracts: RowContracts, traces: bool = False) -> list[str]:
    """One JSON object a row, the text `json.dumps` writes, made by filling a template of the row's
    structure with each leaf's text, a column at a time: a dict a row through `json.dumps`, after
    rebuilding each row's values, was 20 of the 37 s of a 10⁶-row run of examples/sequences.circ
    (issue 19)."""
    result = ran.compiled.checked.function(ran.compiled.entry).signature.result
    given = ", ".join(json.dumps(name).replace("%", "%%") + ": " + _template(t) for name, t in ran.params)
    template = '{"inputs": {' + given + '}, "output": ' + _template(result)
    template += ', "confidence": %s, "contract": %s}'
    leaves = [texts for (_, t), x in zip(ran.params, ran.inputs, strict=True) for texts in _leaf_texts(t, x)]
    least = ran.execution.row_confidence()  # the least confident call each row's answer needs
    finite = least is not None and bool(least.isfinite().all())  # then repr is json.dumps' text
    sure = ["null"] * ran.rows if least is None else list(map(repr if finite else json.dumps, least.tolist()))
    status = {s: json.dumps(s) for s in set(contracts.status)}
    columns = [*leaves, *_leaf_texts(result, ran.execution.output), sure, map(status.get, contracts.status)]
    lines = [template % row for row in zip(*columns, strict=True)]
    if traces:
        for row, line in enumerate(lines):
            steps = [step_json(step) for step in trace_row(ran.graph, ran.execution, row)]
            lines[row] = line[:-1] + ', "trace": ' + json.dumps(steps) + "}"
    return lines


def _template(t: T.Type) -> str:
    """A value of `t` as JSON with `%s` for each leaf (sequences, grid rows and tuples as arrays)."""
    if isinstance(t, T.ScalarT):
        return "%s"
    if isinstance(t, T.GridT):
        return _template(T.SeqT(T.SeqT(T.COLOR, t.w), t.h))
    items = [t.elem] * t.n if isinstance(t, T.SeqT) else list(t.items)
    return "[" + ", ".join(map(_template, items)) + "]"


def _leaf_texts(t: T.Type, batch: torch.Tensor) -> list[list[str]]:
    """Each leaf column of a `[rows, leaves]` batch as JSON texts, each looked up among its type's
    texts, made once (4× faster than `str` a value); a wide range's values, and any outside their
    type's range (none is expected), through `str`."""
    columns, leaves = [], T.parts(t)
    inside = [True] * len(leaves)
    if batch.shape[0]:
        lows, highs = batch.amin(0).tolist(), batch.amax(0).tolist()
        inside = [x.low <= lo and hi <= x.high for x, lo, hi in zip(leaves, lows, highs, strict=True)]
    for leaf, column, fits in zip(leaves, batch.t().tolist(), inside, strict=True):
        texts = _texts(leaf) if fits and leaf.high - leaf.low < TEXT_TABLE else None
        shifted = column if texts is None or leaf.low == 0 else [v - leaf.low for v in column]
        columns.append(list(map(str, column) if texts is None else map(texts.__getitem__, shifted)))
    return columns


TEXT_TABLE = 1 << 12  # leaf ranges up to this wide have their texts made once


@functools.cache
def _texts(leaf: T.ScalarT) -> tuple[str, ...]:
    """The JSON text of each of a leaf type's values, from its low end."""
    return ("false", "true") if isinstance(leaf, T.BoolT) else tuple(map(str, range(leaf.low, leaf.high + 1)))


def step_json(step: Step) -> dict[str, object]:
    """A trace step as JSON: what ran, where, on what, its answer, confidence and contract checks."""
    out: dict[str, object] = {"what": step.what, "at": str(step.span), "inputs": list(step.inputs)}
    out["output"] = step.output
    if step.confidence is not None:
        out |= {"confidence": step.confidence, "requires": step.requires, "ensures": step.ensures}
        out["taken"] = step.taken
    return out


def row_progress(total: int | None) -> Progress:
    """A transient bar on stderr for a streamed run (rows done, rows/s, time left when the total is known)."""
    columns = [
        TextColumn("[dim]running[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeRemainingColumn() if total is not None else TimeElapsedColumn(),
    ]
    return Progress(*columns, console=Console(stderr=True), transient=True)


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
