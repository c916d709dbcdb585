"""The `circ` command: a thin typer layer over library calls, rendered with rich.

Library code raises `CircError` with located diagnostics; this is the one place that prints them
and turns them into exit code 1.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from circ.lang.diagnostics import CircError, Diagnostic, render

app = typer.Typer(
    name="circ",
    help="circ: compose learned neural circuits in typed programs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

from circ.cli_learn import data_app, train_command  # noqa: E402  (circ.learn's commands)

app.add_typer(data_app, name="data")
app.command("train")(train_command)

from circ.cli_catalog import catalog_app  # noqa: E402  (the circuit catalog's commands)

app.add_typer(catalog_app, name="catalog")

from circ.cli_verify import verify_command  # noqa: E402  (Z3 proofs, property tests, certificates)

app.command("verify")(verify_command)

from circ.cli_extract import extract_app  # noqa: E402  (pruning, transcoders, attribution graphs)

app.add_typer(extract_app, name="extract")


def console() -> Console:
    return Console(soft_wrap=True)


def report(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], sources: dict[str, str]) -> None:
    """Diagnostics go to stderr as plain text: no wrapping, so carets stay under their columns."""
    for diagnostic in diagnostics:
        typer.echo(render(diagnostic, sources), err=True)


def fail(exc: CircError) -> typer.Exit:
    report(exc.diagnostics, exc.sources)
    return typer.Exit(code=1)


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help=".circ files to check", show_default=False)],
) -> None:
    """Parse and type-check programs; print each one's typed signatures."""
    from circ.pipeline import check_file
    from circ.show import signatures

    failed = False
    for path in files:
        try:
            checked = check_file(path)
        except CircError as exc:
            report(exc.diagnostics, exc.sources)
            failed = True
            continue
        report(checked.warnings, checked.program.sources)
        console().print(signatures(checked))
    if failed:
        raise typer.Exit(code=1)


class Emit(StrEnum):
    ast = "ast"
    types = "types"
    graph = "graph"
    dot = "dot"
    passes = "passes"
    kernels = "kernels"


@app.command("compile")
def compile_(
    file: Annotated[Path, typer.Argument(help="the .circ program", show_default=False)],
    emit: Annotated[Emit, typer.Option(help="which stage to show")] = Emit.graph,
    entry: Annotated[str, typer.Option(help="the function to compile")] = "main",
    db: Annotated[str | None, typer.Option(help="catalog for --emit kernels (default: $CIRC_DB)")] = None,
) -> None:
    """Compile a program and show one stage: the AST, the types, the dataflow graph, DOT, the graph
    after each pass, or the generated Triton kernels."""
    from circ.compiler.dot import to_dot
    from circ.pipeline import check_file
    from circ.show import ast_tree, graph_table, signatures

    try:
        checked = check_file(file)
        if emit is Emit.ast:
            console().print(ast_tree(checked.program.modules[checked.program.root]))
            return
        if emit is Emit.types:
            console().print(signatures(checked))
            return
        from circ.compiler.lower import lower

        graph = lower(checked, entry)
    except CircError as exc:
        raise fail(exc) from None
    if emit is Emit.dot:
        sys.stdout.write(to_dot(graph))
    elif emit is Emit.passes:
        from circ.show_compile import passes_view

        console().print(passes_view(graph))
    elif emit is Emit.kernels:
        sys.stdout.write(_kernels(graph, db))
    else:
        console().print(graph_table(graph))


def _kernels(graph, db: str | None) -> str:
    from circ.learn.catalog import Catalog, CatalogError
    from circ.runtime.catalog_provider import CatalogProvider
    from circ.runtime.provider import CircuitUnavailable
    from circ.settings import Settings
    from circ.show_compile import kernels_text

    try:
        with Catalog.open(Settings.from_env(db=db)) as catalog:
            return kernels_text(graph, CatalogProvider(catalog))
    except (CircuitUnavailable, CatalogError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None


class Backend(StrEnum):
    torch = "torch"
    triton = "triton"
    auto = "auto"


@app.command()
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
    trace: Annotated[bool, typer.Option(help="print each row's reasoning trace")] = False,
    json_: Annotated[bool, typer.Option("--json", help="print JSON lines instead of a table")] = False,
    entry: Annotated[str, typer.Option(help="the function to run")] = "main",
    db: Annotated[str | None, typer.Option(help="catalog database URL (default: $CIRC_DB)")] = None,
    limit: Annotated[int, typer.Option(help="rows to show in the table / traces")] = 20,
    backend: Annotated[
        Backend, typer.Option(help="torch (reference), triton (fused kernels; CUDA), auto (triton on CUDA)")
    ] = Backend.torch,
) -> None:
    """Run a program on learned circuits from the catalog (the shipped stdlib, then your own)."""
    import time

    from circ.learn.catalog import Catalog, CatalogError
    from circ.run_program import run_file
    from circ.runtime.catalog_provider import CatalogProvider
    from circ.runtime.provider import CircuitUnavailable
    from circ.runtime.triton_backend import BackendUnavailable
    from circ.runtime.values import InputError
    from circ.settings import Settings
    from circ.show_run import json_lines, results_table, trace_tree

    if sum([bool(input), inputs is not None, all_]) > 1:
        typer.echo("error: give one of --input, --inputs or --all", err=True)
        raise typer.Exit(code=1)
    settings = Settings.from_env(db=db)
    device = settings.torch_device()
    start = time.perf_counter()
    try:
        with Catalog.open(settings) as catalog:
            provider = CatalogProvider(catalog, device)
            ran = run_file(
                file,
                provider,
                assignments=input,
                rows_file=inputs,
                whole_domain=all_,
                entry=entry,
                keep=trace,
                device=device,
                backend=backend.value,
            )
    except CircError as exc:
        raise fail(exc) from None
    except (InputError, CircuitUnavailable, CatalogError, BackendUnavailable) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    seconds = time.perf_counter() - start
    if json_:
        for line in json_lines(ran):
            sys.stdout.write(line + "\n")
        return
    out = console()
    if trace:
        for row in range(min(limit, ran.rows)):
            out.print(trace_tree(ran, row))
        return
    out.print(results_table(ran, limit))
    if ran.rows > limit:
        out.print(f"[dim]… {ran.rows - limit:,} more rows (--json prints all)[/]")
    out.print(f"[dim]{ran.rows:,} row{'' if ran.rows == 1 else 's'} in {seconds:.2f} s[/]", highlight=False)


stdlib_app = typer.Typer(help="The shipped circuits: train, certify and package them.", no_args_is_help=True)
app.add_typer(stdlib_app, name="stdlib")


@stdlib_app.command("build")
def stdlib_build(
    only: Annotated[list[str] | None, typer.Option("--only", help="just this circuit (repeatable)")] = None,
    out: Annotated[Path | None, typer.Option(help="where to write the packaged catalog")] = None,
) -> None:
    """Train every stdlib circuit that has a recipe, certify it on its whole domain, package it."""
    from circ.stdlib_build import Built, RecipeError, build
    from circ.train_progress import training_progress

    def report(item: Built) -> None:
        cert = item.certificate
        sample = " (sampled)" if cert.sampled else ""
        if cert.accuracy == 1.0:
            line = f"[green]{item.name}: 100% on {cert.n_checked:,} inputs{sample}[/]"
        else:  # never rounded up to 100%
            wrong = round((1 - cert.accuracy) * cert.n_checked)
            line = f"[red]{item.name}: {wrong:,} wrong of {cert.n_checked:,} inputs{sample}[/]"
        console().print(line, highlight=False)

    try:
        with training_progress(console()) as on_eval:
            built, missing = build(out, only, on_eval=on_eval, on_built=report)
    except RecipeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    if missing:
        console().print(f"[yellow]no recipe yet ({len(missing)}):[/] {', '.join(missing)}", highlight=False)
    if any(b.certificate.accuracy < 1.0 for b in built):
        raise typer.Exit(code=1)


def main() -> None:
    app()
