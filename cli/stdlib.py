"""`circ stdlib build`: train, certify and package the shipped circuits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from circ.cli.edge import user_errors
from circ.cli.run import Precision

stdlib_app = typer.Typer(help="The shipped circuits: train, certify and package them.", no_args_is_help=True)


@stdlib_app.command("certify")
def stdlib_certify(
    only: Annotated[list[str] | None, typer.Option("--only", help="just this circuit (repeatable)")] = None,
    out: Annotated[Path | None, typer.Option(help="the packaged catalog to certify")] = None,
    precision: Annotated[
        Precision, typer.Option(help="fp32, or bf16 (weights and activations)")
    ] = Precision.fp32,
) -> None:
    """Certify the shipped circuits again, without retraining: exhaustive where the domain can be
    listed, else a bounds proof over every input (fp32 only), else named samples (marked as such)."""
    from circ.cli.show_verify import certificate_text
    from circ.stdlib_build import Built, recertify

    console = Console(soft_wrap=True)

    def report(item: Built) -> None:  # the accuracy rounded down: a miss never reads as 100%
        cert = item.certificate
        inputs = f" on {cert.n_checked:,} inputs in {cert.precision}"
        console.print(f"{item.name}: ", certificate_text(cert), inputs, sep="")

    with user_errors():
        built = recertify(out, only, on_built=report, precision=precision.value)
    if any(b.certificate.accuracy < 1.0 for b in built):
        raise typer.Exit(code=1)


@stdlib_app.command("build")
def stdlib_build(
    only: Annotated[list[str] | None, typer.Option("--only", help="just this circuit (repeatable)")] = None,
    out: Annotated[Path | None, typer.Option(help="where to write the packaged catalog")] = None,
) -> None:
    """Train every stdlib circuit that has a recipe, certify it on its whole domain, package it."""
    from circ.cli.train_progress import training_progress
    from circ.stdlib_build import Built, build

    console = Console(soft_wrap=True)

    def report(item: Built) -> None:
        cert = item.certificate
        how = f" ({cert.method})"
        if cert.accuracy == 1.0:
            colour = "green" if cert.certified else "yellow"
            line = f"[{colour}]{item.name}: right on {cert.n_checked:,} inputs{how}[/]"
        else:  # never rounded up to 100%
            wrong = round((1 - cert.accuracy) * cert.n_checked)
            line = f"[red]{item.name}: {wrong:,} wrong of {cert.n_checked:,} inputs{how}[/]"
        console.print(line, highlight=False)
        if item.mechanism:
            console.print(f"  [dim]{item.steps} steps; {item.mechanism}[/]", highlight=False)

    with user_errors(), training_progress(console) as on_eval:
        built, missing = build(out, only, on_eval=on_eval, on_built=report)
    if missing:
        console.print(f"[yellow]no recipe yet ({len(missing)}):[/] {', '.join(missing)}", highlight=False)
    if any(b.certificate.accuracy < 1.0 for b in built):
        raise typer.Exit(code=1)
