"""The one base of every error a user can cause and fix, and the field-naming error built on it.

It lives in the first stage so every later one can raise it; the CLI's single edge wrapper catches
`UserError` and prints it — a `CircError` as located diagnostics, anything else as one `error:` line —
and exits 1. Anything else reaching the CLI is a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem in what the user gave (a program, an input, a config, a catalog): one clear line."""


class ConfigError(UserError, ValueError):
    """A bad value for a named field (a task parameter, a model or optimiser setting, a run option)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")
