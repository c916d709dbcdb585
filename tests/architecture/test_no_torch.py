"""Checking and compiling never import torch, triton or numpy (nor does emitting Triton kernel
source), and checking not even networkx, nor SQLAlchemy for a program whose circuits the stdlib
ships, nor pydantic: these are the commands a user runs most, torch alone costs about two seconds to
import, and SQLAlchemy 0.3 s."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support import EXAMPLES

PROBE = """
import sys
from typer.testing import CliRunner
from circ.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
assert result.exit_code == 0, result.output
HEAVY = ("torch", "triton", "numpy", "networkx", "sqlalchemy", "pydantic")
heavy = sorted(m for m in HEAVY if m in sys.modules)
print(",".join(heavy) or "none")
"""


def heavy_imports(args: list[str], home: Path, timeout: int = 120) -> str:
    """The heavy modules a `circ` command imported (in a fresh interpreter), comma-separated."""
    env = {"CIRC_HOME": str(home), "PATH": "/usr/bin:/bin", "HOME": str(home.parent), "COLUMNS": "200"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=EXAMPLES,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "imported"),
    [
        (["check", "combinators.circ"], "none"),  # not even networkx: checking builds no graph
        (["check", "affine.circ"], "none"),
        (["compile", "combinators.circ", "--emit", "graph"], "networkx"),
        (["compile", "combinators.circ", "--emit", "passes"], "networkx"),
        (["compile", "combinators.circ", "--emit", "kernels"], "networkx,sqlalchemy"),
    ],
    ids=lambda a: " ".join(a[:1] + a[2:]) if isinstance(a, list) else a,
)
def test_front_end_commands_import_no_torch(args: list[str], imported: str, tmp_path: Path) -> None:
    assert heavy_imports(args, tmp_path / "home") == imported


def test_a_run_before_any_database_exists_reads_the_stdlib_without_sqlalchemy(tmp_path: Path) -> None:
    """The first thing a new user runs: no database yet, so none is made and SQLAlchemy (0.35 s of
    the start) is not imported; the packaged stdlib answers as the catalog would."""
    home = tmp_path / "home"
    assert "sqlalchemy" not in heavy_imports(["run", "affine.circ", "-i", "x=5"], home, timeout=300).split(
        ","
    )
    assert not home.exists()
