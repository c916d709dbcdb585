"""Errors a user of `circ.learn` can cause, each naming the field at fault.

The CLI turns these into one line, `error: <field>: <message>`, and exits 1; library code only raises.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from circ.lang.errors import ConfigError


class UnknownTaskError(ConfigError):
    """A task name that is not registered; carries the closest registered names."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.close = tuple(difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.5))
        hint = f"; did you mean {', '.join(self.close)}?" if self.close else "; see `circ data list`"
        super().__init__("task", f"unknown task {name!r}{hint}")
