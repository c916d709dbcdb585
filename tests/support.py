"""Test helpers: paths to the examples, and golden-file comparison (importable as `support`).

Run `CIRC_UPDATE_GOLDEN=1 python -m pytest` to rewrite golden files after an intended change,
then review the diff like any other code change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"

# Circuits the `color_provider` fixture trains: catalog name used in test programs → learn task.
TRAINED = {"t.add": "color_add", "t.max": "color_max"}


def example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*.circ"))


def error_files() -> list[Path]:
    return sorted((EXAMPLES / "errors").glob("*.circ"))


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CIRC_UPDATE_GOLDEN") or not path.exists():
        path.write_text(actual)
        if not os.environ.get("CIRC_UPDATE_GOLDEN"):
            pytest.fail(f"golden file {path.name} was missing and has been written; review and commit it")
    assert actual == path.read_text(), (
        f"output differs from {path}; rerun with CIRC_UPDATE_GOLDEN=1 if intended"
    )
