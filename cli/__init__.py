"""The `circ` command: thin typer commands over `circ.api` and the stage libraries, rendered with rich.

Each command parses its options, calls one library function inside `edge.user_errors()` and renders
the result; the modules here hold the commands by topic (`front_end`, `run`, `verify`, `learn`,
`catalog`, `stdlib`, `synth`, `adapt`, `interchange`) and their renderings (`show*`).
"""

from __future__ import annotations

import typer

from circ.cli.adapt import adapt_command
from circ.cli.analyse import analyse_command
from circ.cli.catalog import catalog_app
from circ.cli.experiment import experiment_app
from circ.cli.extract import extract_app
from circ.cli.front_end import check, compile_
from circ.cli.learn import data_app, train_command
from circ.cli.lsp import lsp_command
from circ.cli.repl import repl_command
from circ.cli.run import run
from circ.cli.stdlib import stdlib_app
from circ.cli.sweep import sweep_command
from circ.cli.synth import synth_command
from circ.cli.verify import verify_command
from circ.collector import freeze_for_exit

app = typer.Typer(
    name="circ",
    help="circ: compose learned neural circuits in typed programs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"circ {version('circ')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """circ: compose learned neural circuits in typed programs."""


app.command()(check)
app.command("compile")(compile_)
app.command()(run)
app.command("verify")(verify_command)
app.command("synth")(synth_command)
app.add_typer(data_app, name="data")
app.command("train")(train_command)
app.command("sweep")(sweep_command)
app.command("analyse")(analyse_command)
app.command("adapt")(adapt_command)
app.add_typer(catalog_app, name="catalog")
app.add_typer(extract_app, name="extract")
app.add_typer(experiment_app, name="experiment")
app.add_typer(stdlib_app, name="stdlib")
app.command("repl")(repl_command)
app.command("lsp")(lsp_command)


def main() -> None:
    try:
        app()
    finally:
        freeze_for_exit()  # the interpreter's exit does not re-scan what the command left alive
