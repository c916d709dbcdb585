"""`circ synth` end to end over the packaged stdlib: the program on stdout (or `--out`), the verdict
and the search's figures on stderr, exit code 1 when no program fits."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from circ import api
from circ.cli import app
from circ.learn.catalog import Catalog
from circ.settings import packaged_catalog_dir
from circ.synth.problems import Problem, spec_source

runner = CliRunner()  # keeps stdout and stderr apart
GRIDS = ("grids", "colors")
GRID = "(g: Grid[5, 5]) -> Grid[5, 5]"


@pytest.fixture
def spec_file(tmp_path: Path):
    def write(body: str) -> Path:
        with Catalog("sqlite://", tmp_path / "blobs", packaged=packaged_catalog_dir()) as catalog:
            text = spec_source(Problem("solve", GRIDS, GRID, body, 3), catalog)
        path = tmp_path / "spec.circ"
        path.write_text(text)
        return path

    return write


def synth(tmp_path: Path, *args: str):
    return runner.invoke(app, ["synth", *args, "--db", f"sqlite:///{tmp_path / 'empty.db'}", "--no-llm"])


def test_a_grid_program_from_arc_style_pairs(spec_file, tmp_path: Path) -> None:
    result = synth(tmp_path, str(spec_file("map(color_pred, vmirror(g))")))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(
        "use stdlib.grids;\nuse stdlib.colors;\n\nfn solve(g: Grid[5, 5]) -> Grid[5, 5]\n{"
    )
    api.check(str(tmp_path / "out.circ"), result.stdout)
    assert "found `solve` (size 4, depth 2)" in result.stderr
    assert "✓ matches all 3 examples on the learned circuits" in result.stderr
    assert result.stderr.rstrip().endswith("verdict: certified")


def test_out_writes_the_program_and_no_solution_exits_1(spec_file, tmp_path: Path) -> None:
    out = tmp_path / "found.circ"
    spec = spec_file("rot90(g)")
    assert synth(tmp_path, str(spec), "--out", str(out), "--no-verify").exit_code == 0
    assert "rot90(g)" in out.read_text() and "synth fn" not in out.read_text()
    hard = spec_file("zip_with(color_add, map(color_succ, g), rot90(hmirror(g)))")
    result = synth(tmp_path, str(hard), "--max-size", "3")
    assert result.exit_code == 1 and result.stdout == ""
    assert "no program up to size 3 over 18 components and the combinators fits the examples" in result.stderr


def test_a_bad_spec_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.circ"
    path.write_text("synth fn f(a: Color) -> Color;\n")
    result = synth(tmp_path, str(path))
    assert result.exit_code == 1
    assert "bad.circ:1:10: error: `synth fn f` needs examples or an `ensures` to search for" in result.stderr
    path.write_text("fn f(a: Color) -> Color { a }\n")
    result = synth(tmp_path, str(path))
    assert result.exit_code == 1 and "no `synth fn` declaration to search for" in result.stderr
