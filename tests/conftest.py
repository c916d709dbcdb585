"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import EXAMPLES


@pytest.fixture
def in_examples(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from examples/, so diagnostics show paths as a user there would see them."""
    monkeypatch.chdir(EXAMPLES)
    return EXAMPLES
