"""`circ check` and `circ compile --emit …`: the front-end stages, shown."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from circ.cli.edge import report, user_errors

if TYPE_CHECKING:
    from circ.lang.check import Checked
    from circ.lang.diagnostics import Diagnostic


def console() -> Console:
    return Console(soft_wrap=True)


def check(
    files: Annotated[list[Path], typer.Argument(help=".circ files to check", show_default=False)],
    db: Annotated[str | None, typer.Option(help="catalog database URL (default: $CIRC_DB)")] = None,
) -> None:
    """Parse and type-check programs; print each one's typed signatures, and warn of circuits that
    have no weights in the catalog."""
    from circ.api import check as check_file
    from circ.cli.show import signatures

    failed = False
    for path in files:
        try:
            with user_errors():
                checked = check_file(path)
        except typer.Exit:
            failed = True
            continue
        report([*checked.warnings, *_missing_weights(checked, db)], checked.program.sources)
        console().print(signatures(checked))
    if failed:
        raise typer.Exit(code=1)


def _missing_weights(checked: Checked, db: str | None) -> list[Diagnostic]:
    """Warnings for circuits without weights; the catalog is opened only when the program uses a
    circuit, and a catalog that cannot be read costs one warning, not the check."""
    from circ.lang.diagnostics import warning
    from circ.lang.errors import UserError
    from circ.learn.catalog import PackagedCatalog
    from circ.settings import Settings
    from circ.weights_check import circuit_sites, packaged_backs_all, unbacked

    if not circuit_sites(checked):
        return []
    settings = Settings.from_env(db=db)
    stdlib = settings.stdlib_catalog
    if stdlib is not None and packaged_backs_all(checked, PackagedCatalog(stdlib)):
        return []
    try:
        with settings.open_catalog() as catalog:
            return unbacked(checked, catalog)
    except UserError as exc:
        span = circuit_sites(checked)[0][0]
        return [warning(span, f"could not check the circuits' weights: {exc}")]


class Emit(StrEnum):
    ast = "ast"
    types = "types"
    graph = "graph"
    dot = "dot"
    passes = "passes"
    kernels = "kernels"


def compile_(
    file: Annotated[Path, typer.Argument(help="the .circ program", show_default=False)],
    emit: Annotated[Emit, typer.Option(help="which stage to show")] = Emit.graph,
    entry: Annotated[str, typer.Option(help="the function to compile")] = "main",
    db: Annotated[str | None, typer.Option(help="catalog for --emit kernels (default: $CIRC_DB)")] = None,
) -> None:
    """Compile a program and show one stage: the AST, the types, the dataflow graph, DOT, the graph
    after each pass, or the generated Triton kernels."""
    from circ import api
    from circ.cli.show import ast_tree, signatures

    with user_errors():
        if emit in (Emit.ast, Emit.types):
            checked = api.check(file)
            shown = ast_tree(checked.program.modules[checked.program.root]) if emit is Emit.ast else None
            console().print(shown if shown is not None else signatures(checked))
            return
        compiled = api.compile(file, entry)
        if emit is Emit.dot:
            from circ.compiler.dot import to_dot

            sys.stdout.write(to_dot(compiled.graph))
        elif emit is Emit.passes:
            from circ.cli.show_compile import passes_view

            console().print(passes_view(compiled.graph))
        elif emit is Emit.kernels:
            from circ.cli.show_compile import kernels_text
            from circ.settings import Settings

            with Settings.from_env(db=db).open_catalog() as catalog:
                sys.stdout.write(kernels_text(compiled.optimized, catalog))
        else:
            from circ.cli.show_compile import graph_table

            console().print(graph_table(compiled.graph))
