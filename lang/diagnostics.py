"""Located messages: every error a user can cause in a `.circ` file becomes a `Diagnostic`.

Library code collects diagnostics and returns or raises them (`CircError`); only the CLI prints,
through the single `render`, which shows `file:line:col: severity: message`, the line and a caret.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from circ.lang.ast import Span
from circ.lang.errors import UserError


@dataclass(frozen=True)
class Diagnostic:
    span: Span
    message: str
    severity: str = "error"  # "error" | "warning"
    notes: tuple[str, ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class CircError(UserError):
    """Raised with one or more error diagnostics; the CLI renders them and exits 1."""

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: Mapping[str, str] | None = None) -> None:
        self.diagnostics = tuple(diagnostics)
        self.sources = dict(sources or {})  # path → text, so the CLI can show the offending lines
        super().__init__("; ".join(f"{d.span}: {d.message}" for d in self.diagnostics))


def error(span: Span, message: str, *notes: str) -> Diagnostic:
    return Diagnostic(span, message, "error", notes)


def warning(span: Span, message: str, *notes: str) -> Diagnostic:
    return Diagnostic(span, message, "warning", notes)


def did_you_mean(name: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """A note suggesting the closest known name, if any is close."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1)
    return (f"did you mean `{close[0]}`?",) if close else ()


def render(diagnostic: Diagnostic, sources: Mapping[str, str]) -> str:
    """`file:line:col: error: message`, the source line, and a caret under the span."""
    span = diagnostic.span
    where = str(span) if span.line > 0 else span.path  # line 0: about the whole file (unreadable, missing)
    lines = [f"{where}: {diagnostic.severity}: {diagnostic.message}"]
    text = sources.get(span.path)
    if text is not None:
        source_lines = text.split("\n")  # as the parser counts lines (not str.splitlines: \f, \x85, \u2028)
        if 1 <= span.line <= len(source_lines):
            line = source_lines[span.line - 1].rstrip("\r").expandtabs(1)
            end = span.end_column if span.end_line == span.line else len(line) + 1
            shown, start, end = _window(line, span.column, max(end, span.column + 1))
            lines.append(f"  {span.line:>4} | {shown}")
            lines.append(f"       | {' ' * (start - 1)}{'^' * (end - start)}")
    lines.extend(f"       = note: {note}" for note in diagnostic.notes)
    return "\n".join(lines)


SHOWN = 100  # characters of a source line shown around a diagnostic's caret


def _window(line: str, start: int, end: int) -> tuple[str, int, int]:
    """At most SHOWN characters of `line` around columns [start, end) (1-based), elided with `…`,
    and the columns of the caret in what is shown: a one-line 20,000-parameter `fn` prints one line."""
    if len(line) <= SHOWN:
        return line, start, min(end, len(line) + 2)
    first = max(0, min(start - 1 - SHOWN // 4, len(line) - SHOWN))
    shown = line[first : first + SHOWN]
    prefix = "…" if first > 0 else ""
    suffix = "…" if first + SHOWN < len(line) else ""
    caret_start = start - first + len(prefix)
    caret_end = min(end - first, SHOWN + 1) + len(prefix)
    return prefix + shown + suffix, caret_start, max(caret_end, caret_start + 1)
