"""`circ verify FILE`: a thin typer command over `circ.verify.report.verify_program`.

Exit code 0 when the verdict is `certified` or `verified (sampled)`, 2 when it is `unproved: …`, 1
when it is `failed: …` or the program cannot be read; source errors are the usual located
diagnostics on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from circ.cli.edge import fail, user_errors
from circ.cli.run import PRECISION_HELP, Precision


def verify_command(
    file: Annotated[Path, typer.Argument(help="the .circ program", show_default=False)],
    timeout: Annotated[float, typer.Option(help="Z3 seconds per obligation")] = 10.0,
    examples: Annotated[int, typer.Option(help="property-test inputs per function")] = 100,
    seed: Annotated[int, typer.Option(help="seed of the property tests")] = 0,
    entry: Annotated[str, typer.Option(help="the function whose error bound to report")] = "main",
    json_: Annotated[bool, typer.Option("--json", help="print one JSON object instead of a report")] = False,
    db: Annotated[str | None, typer.Option(help="catalog database URL (default: $CIRC_DB)")] = None,
    precision: Annotated[Precision, typer.Option(help=PRECISION_HELP)] = Precision.fp32,
) -> None:
    """Prove a program's contracts (Z3), property-test it (Hypothesis), and check its circuits'
    certificates: `certified`, `verified (sampled)` or `failed: …`."""
    from circ.collector import imports_paused

    with imports_paused():  # torch's, z3's and the stages' (circ/collector.py)
        from circ import api
        from circ.cli.show_verify import report_json, report_view
        from circ.settings import Settings

    if timeout <= 0 or examples < 1:
        raise fail("--timeout must be > 0 and --examples ≥ 1")
    settings = Settings.from_env(db=db)
    with user_errors(), settings.open_catalog() as catalog:
        options = {
            "timeout": timeout,
            "examples": examples,
            "seed": seed,
            "entry": entry,
            "precision": precision.value,
        }
        report = api.verify(file, catalog, settings.torch_device(), **options)
    if json_:
        typer.echo(json.dumps(report_json(report)))
    else:
        Console(soft_wrap=True).print(report_view(report, report.sources, timeout, examples), crop=False)
    raise typer.Exit(code=0 if report.ok else 2 if report.verdict.startswith("unproved") else 1)
