"""`circ verify FILE`: a thin typer command over `circ.runtime.verify.report.verify_program`.

Exit code 0 when the verdict is `certified` or `verified (sampled)`, 1 when it is `failed: …` or
the program cannot be read; source errors are the usual located diagnostics on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console


def verify_command(
    file: Annotated[Path, typer.Argument(help="the .circ program", show_default=False)],
    timeout: Annotated[float, typer.Option(help="Z3 seconds per obligation")] = 10.0,
    examples: Annotated[int, typer.Option(help="property-test inputs per function")] = 100,
    seed: Annotated[int, typer.Option(help="seed of the property tests")] = 0,
    entry: Annotated[str, typer.Option(help="the function whose error bound to report")] = "main",
    json_: Annotated[bool, typer.Option("--json", help="print one JSON object instead of a report")] = False,
    db: Annotated[str | None, typer.Option(help="catalog database URL (default: $CIRC_DB)")] = None,
) -> None:
    """Prove a program's contracts (Z3), property-test it (Hypothesis), and check its circuits'
    certificates: `certified`, `verified (sampled)` or `failed: …`."""
    from circ.lang.diagnostics import CircError, render
    from circ.learn.catalog import Catalog, CatalogError
    from circ.pipeline import check_file
    from circ.runtime.verify.report import verify_program
    from circ.settings import Settings
    from circ.show_verify import report_json, report_view

    if timeout <= 0 or examples < 1:
        typer.echo("error: --timeout must be > 0 and --examples ≥ 1", err=True)
        raise typer.Exit(code=1)
    settings = Settings.from_env(db=db)
    try:
        checked = check_file(file)
        with Catalog.open(settings) as catalog:
            report = verify_program(
                checked,
                catalog,
                timeout=timeout,
                examples=examples,
                seed=seed,
                device=settings.torch_device(),
                entry=entry,
            )
    except CircError as exc:
        for diagnostic in exc.diagnostics:
            typer.echo(render(diagnostic, exc.sources), err=True)
        raise typer.Exit(code=1) from None
    except CatalogError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    if json_:
        typer.echo(json.dumps(report_json(report)))
    else:
        Console(soft_wrap=True).print(
            report_view(report, checked.program.sources, timeout, examples), crop=False
        )
    raise typer.Exit(code=0 if report.ok else 1)
