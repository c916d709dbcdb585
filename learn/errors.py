"""Errors a user of `circ.learn` can cause, each naming the field at fault.

The CLI turns these into one line, `error: <field>: <message>`, and exits 1; library code only raises.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ConfigError(ValueError):
    """A bad value for a named field (a task parameter, a model or optimiser setting, a run option)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class UnknownTaskError(ConfigError):
    """A task name that is not registered; carries the closest registered names."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.close = tuple(difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.5))
        hint = f"; did you mean {', '.join(self.close)}?" if self.close else "; see `circ data list`"
        super().__init__("task", f"unknown task {name!r}{hint}")
