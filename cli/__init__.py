"""The `circ` command: thin typer commands over `circ.api` and the stage libraries, rendered with rich.

Each command parses its options, calls one library function inside `edge.user_errors()` and renders
the result; the modules here hold the commands by topic (`front_end`, `run`, `verify`, `learn`,
`catalog`, `stdlib`, `adapt`, `interchange`) and their renderings (`show*`).
"""

from __future__ import annotations

import typer

from circ.cli.adapt import adapt_command
from circ.cli.catalog import catalog_app
from circ.cli.front_end import check, compile_
from circ.cli.interchange import add_command
from circ.cli.learn import data_app, train_command
from circ.cli.run import run
from circ.cli.stdlib import stdlib_app
from circ.cli.verify import verify_command

app = typer.Typer(
    name="circ",
    help="circ: compose learned neural circuits in typed programs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(check)
app.command("compile")(compile_)
app.command()(run)
app.command("verify")(verify_command)
app.add_typer(data_app, name="data")
app.command("train")(train_command)
app.command("adapt")(adapt_command)
catalog_app.command("add")(add_command)
app.add_typer(catalog_app, name="catalog")
app.add_typer(stdlib_app, name="stdlib")


def main() -> None:
    app()
