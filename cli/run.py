"""`circ run`: a program on learned circuits from the catalog, one row, a file of rows, or its domain."""

from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from circ.cli.edge import fail, user_errors

if TYPE_CHECKING:
    from circ.api import Ran


class Backend(StrEnum):
    torch = "torch"
    triton = "triton"
    auto = "auto"


class Precision(StrEnum):  # `circ.learn.catalog.certificates.PRECISIONS`
    fp32 = "fp32"
    bf16 = "bf16"


PRECISION_HELP = (
    "what the circuits compute in: fp32, or bf16 (trusted only as far as their bf16 certificates go)"
)


def run(
    file: Annotated[Path, typer.Argument(help="the .circ program", show_default=False)],
    input: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="a parameter's value, NAME=VALUE (repeat per parameter)"),
    ] = None,
    inputs: Annotated[
        Path | None, typer.Option(help="JSON lines, one object of parameter values per row")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="run on every input of the program's domain")] = False,
    trace: Annotated[
        bool, typer.Option(help="print each row's reasoning trace (summarised per circuit when long)")
    ] = False,
    trace_all: Annotated[bool, typer.Option(help="--trace, listing every call however many")] = False,
    json_: Annotated[bool, typer.Option("--json", help="print JSON lines instead of a table")] = False,
    entry: Annotated[str, typer.Option(help="the function to run")] = "main",
    db: Annotated[str | None, typer.Option(help="catalog database URL (default: $CIRC_DB)")] = None,
    limit: Annotated[int, typer.Option(help="rows to show in the table / traces")] = 20,
    backend: Annotated[
        Backend,
        typer.Option(
            help="torch (reference), triton (fused kernels; CUDA), auto (on CUDA: the faster on the "
            "first rows of those two that agree with torch)"
        ),
    ] = Backend.torch,
    chunk_rows: Annotated[
        int | None,
        typer.Option(
            min=1,
            envvar="CIRC_CHUNK_ROWS",
            help="rows per pass through the program (default: the backend's, measured to stay in cache)",
            show_default=False,
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option(help="exit 1 when a row breaks the entry's requires or ensures")
    ] = False,
    precision: Annotated[Precision, typer.Option(help=PRECISION_HELP)] = Precision.fp32,
) -> None:
    """Run a program on learned circuits from the catalog (the shipped stdlib, then your own); every
    row is checked against the entry's contract."""
    from circ.collector import imports_paused

    with imports_paused():  # torch's and the stages' (circ/collector.py)
        from circ import api
        from circ.cli.show_run import contract_summary, json_lines, results_table, row_contracts, trace_tree
        from circ.heap import keep_freed_memory
        from circ.lang.diagnostics import CircError
        from circ.learn.catalog.provider import CatalogProvider
        from circ.settings import Settings
        from circ.weights_check import unbacked

    if sum([bool(input), inputs is not None, all_]) > 1:
        raise fail("give one of --input, --inputs or --all")
    if precision != Precision.fp32 and backend == Backend.auto:  # the one backend it runs on
        backend = Backend.torch
    if precision != Precision.fp32 and backend != Backend.torch:  # its certificates are torch's
        raise fail(f"--precision {precision.value} runs on the torch backend only")
    trace = trace or trace_all
    keep_freed_memory()  # a run's network passes reuse each other's memory (circ/heap.py)
    settings = Settings.from_env(db=db)
    start = time.perf_counter()
    with user_errors():
        device = settings.torch_device()
        compiled = api.compile(file, entry)
        rows = api.Inputs(tuple(input or ()), inputs, all_)
        with settings.open_reader() as catalog:
            if missing := unbacked(compiled.checked, catalog, severity="error"):
                raise CircError(missing, compiled.program.sources)
            provider = CatalogProvider(catalog, device, precision.value)
            chosen = backend.value
            if backend == Backend.auto:  # measured where more than one can run; said when it was
                choice = api.choose_backend(compiled, rows, provider, device, chunk_rows, trace)
                if choice.rows:
                    print(choice.summary(), file=sys.stderr)
                chosen = choice.runs  # as measured, not rebuilt
            if trace:  # only the rows shown are traced: a trace keeps every node's value
                first = next(rows.chunks(compiled.params, max(1, limit)))
                ran = api.run(compiled, first, provider, chosen, True, device, chunk_rows)
            else:
                chunks = api.run_chunks(compiled, rows, provider, chosen, device, chunk_rows)
                ran, total, tally = _stream(chunks, rows.count(compiled.params), limit, json_)
    if trace:
        contracts = row_contracts(ran)
        total, tally = ran.rows, Counter(contracts.status)
        if json_:
            sys.stdout.write("".join(line + "\n" for line in json_lines(ran, contracts, traces=True)))
        else:  # wrapped to the terminal, never cropped: a trace's values are what it is for
            wrapping = Console()
            for row in range(ran.rows):
                wrapping.print(trace_tree(ran, row, everything=trace_all))
    elif not json_:
        seconds = time.perf_counter() - start
        out = Console(soft_wrap=True)
        assert ran is not None  # every run has a row, and only --json keeps none
        out.print(results_table(ran, limit, row_contracts(ran)))
        if total > limit:
            out.print(f"[dim]… {total - limit:,} more rows (--json prints all)[/]")
        done = f"{total:,} row{'' if total == 1 else 's'} in {seconds:.2f} s"
        out.print(
            f"[dim]{done}{'' if precision == Precision.fp32 else f' ({precision.value})'}[/]", highlight=False
        )
    summary = contract_summary(compiled.entry, tally, total)
    if summary is not None:
        Console(stderr=True).print(summary, highlight=False)
        if strict:
            raise typer.Exit(1)


def _stream(
    chunks: Iterator[Ran], count: int | None, limit: int, json_: bool
) -> tuple[Ran | None, int, Counter[str]]:
    """Consume a chunked run: JSON lines written as each chunk finishes, else only the first `limit`
    rows kept (memory independent of the row count); a progress bar on a terminal when it is long;
    every row checked against the entry's contract. → the rows kept, how many rows ran, and how many
    rows had each contract status."""
    from circ import api
    from circ.cli.show_run import json_lines, row_contracts, row_progress

    tally: Counter[str] = Counter()
    kept: list[Ran] = []
    total = 0
    progress = row_progress(count)
    show = progress.console.is_terminal and count != 1
    with progress if show else contextlib.nullcontext():
        task = progress.add_task("rows", total=count) if show else None
        for ran in chunks:
            contracts = row_contracts(ran)
            tally.update(contracts.status)
            if json_:
                sys.stdout.write("".join(line + "\n" for line in json_lines(ran, contracts)))
            elif total < limit:
                kept.append(ran.head(limit - total))
            total += ran.rows
            if task is not None:
                progress.update(task, completed=total)
    return (api.concat(kept) if kept else None), total, tally
