"""Diagnostics in colour on a terminal: the header's severity, the source line highlighted as `.circ`
(circ.highlight), the caret and the notes. Plain when the stream is not a terminal, when `NO_COLOR` is
set (no-color.org), or for a `dumb` terminal; `FORCE_COLOR` forces colour (pipes into a pager)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TextIO

from circ.lang.diagnostics import Diagnostic, render

_RESET = "\x1b[0m"
_SEVERITY = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m"}
_BOLD, _CARET, _NOTE = "\x1b[1m", "\x1b[1;31m", "\x1b[36m"


def colour_enabled(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and env.get("TERM") != "dumb"


def highlight_circ(code: str) -> str:
    """One or more lines of `.circ` source with ANSI colours."""
    from pygments import highlight
    from pygments.formatters import TerminalFormatter

    from circ.highlight import CircLexer

    return highlight(code, CircLexer(), TerminalFormatter()).rstrip("\n")


def painted(diagnostic: Diagnostic, sources: Mapping[str, str], colour: bool) -> str:
    """`render`'s text, coloured part by part when `colour` (render fixes the layout: the header,
    then the source line and the caret when the source is known, then one line per note)."""
    text = render(diagnostic, sources)
    if not colour:
        return text
    lines = text.split("\n")
    notes = len(diagnostic.notes)
    head, rest = lines[0], lines[1:]
    where, _, message = head.partition(f": {diagnostic.severity}: ")
    severity = _SEVERITY.get(diagnostic.severity, _BOLD)
    out = [f"{_BOLD}{where}{_RESET}: {severity}{diagnostic.severity}{_RESET}: {_BOLD}{message}{_RESET}"]
    if len(rest) - notes == 2:  # the source line and its caret
        gutter, _, code = rest[0].partition(" | ")
        out.append(f"{gutter} | {highlight_circ(code)}")
        gutter, _, caret = rest[1].partition("| ")
        out.append(f"{gutter}| {_CARET}{caret}{_RESET}")
        rest = rest[2:]
    out.extend(f"{_NOTE}{line}{_RESET}" for line in rest)
    return "\n".join(out)
