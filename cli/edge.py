"""The CLI's one edge: library errors a user can cause become clean output and exit code 1.

Library code raises `circ.lang.errors.UserError` (located `CircError` diagnostics for source, one
line naming the field for everything else) and never prints or exits; every command runs inside
`user_errors()`. Anything that is not a `UserError` is a bug in circ and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

import typer

from circ.cli.paint import colour_enabled, painted
from circ.lang.diagnostics import CircError, Diagnostic
from circ.lang.errors import UserError


def report(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str]) -> None:
    """Diagnostics go to stderr, never wrapped, so carets stay under their columns; in colour on a
    terminal (`paint`)."""
    colour = colour_enabled(sys.stderr)
    for diagnostic in diagnostics:
        typer.echo(painted(diagnostic, sources, colour), err=True, color=colour)


def fail(message: str) -> typer.Exit:
    """One `error: …` line on stderr (plain echo: rich would wrap a long path mid-line); exit 1."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except CircError as exc:
        report(exc.diagnostics, exc.sources)
        raise typer.Exit(code=1) from None
    except UserError as exc:
        raise fail(str(exc)) from None
