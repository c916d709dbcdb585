"""`circ run`: a program on learned circuits from the catalog, one row, a file of rows, or its domain."""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from circ.cli.edge import fail, user_errors


class Backend(StrEnum):
    torch = "torch"
    triton = "triton"
    auto = "auto"


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
        Backend, typer.Option(help="torch (reference), triton (fused kernels; CUDA), auto (triton on CUDA)")
    ] = Backend.torch,
    strict: Annotated[
        bool, typer.Option(help="exit 1 when a row breaks the entry's requires or ensures")
    ] = False,
) -> None:
    """Run a program on learned circuits from the catalog (the shipped stdlib, then your own)."""
    from circ import api
    from circ.cli.show_run import contract_summary, json_lines, results_table, row_contracts, trace_tree
    from circ.lang.diagnostics import CircError
    from circ.learn.catalog.provider import CatalogProvider
    from circ.settings import Settings
    from circ.weights_check import unbacked

    if sum([bool(input), inputs is not None, all_]) > 1:
        raise fail("give one of --input, --inputs or --all")
    trace = trace or trace_all
    settings = Settings.from_env(db=db)
    start = time.perf_counter()
    with user_errors():
        device = settings.torch_device()
        compiled = api.compile(file, entry)
        rows = api.Inputs(tuple(input or ()), inputs, all_)
        with settings.open_catalog() as catalog:
            if missing := unbacked(compiled.checked, catalog, severity="error"):
                raise CircError(missing, compiled.program.sources)
            ran = api.run(compiled, rows, CatalogProvider(catalog, device), backend.value, trace, device)
    seconds = time.perf_counter() - start
    contracts = row_contracts(ran)
    if json_:
        for line in json_lines(ran, contracts, traces=trace):
            sys.stdout.write(line + "\n")
    elif trace:  # wrapped to the terminal, never cropped: a trace's values are what it is for
        wrapping = Console()
        for row in range(min(limit, ran.rows)):
            wrapping.print(trace_tree(ran, row, everything=trace_all))
    else:
        out = Console(soft_wrap=True)
        out.print(results_table(ran, limit, contracts))
        if ran.rows > limit:
            out.print(f"[dim]… {ran.rows - limit:,} more rows (--json prints all)[/]")
        out.print(
            f"[dim]{ran.rows:,} row{'' if ran.rows == 1 else 's'} in {seconds:.2f} s[/]", highlight=False
        )
    summary = contract_summary(ran, contracts)
    if summary is not None:
        Console(stderr=True).print(summary, highlight=False)
        if strict:
            raise typer.Exit(1)
