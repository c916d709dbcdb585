"""`circ check` and `circ compile` as a user runs them: output, exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from circ.cli import app

from support import EXAMPLES, error_files, example_files

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_check_all_examples_prints_signatures(in_examples) -> None:
    result = run("check", *(p.name for p in example_files()))
    assert result.exit_code == 0, result.output
    assert "main(x: Mod[97]) -> Mod[97]" in result.output
    assert "flip_diagonal(g: Grid[5, 5]) -> Grid[5, 5]" in result.output
    assert "error" not in result.output


@pytest.mark.parametrize("path", error_files(), ids=lambda p: p.name)
def test_check_error_example_prints_one_located_diagnostic(path, in_examples) -> None:
    result = run("check", f"errors/{path.name}")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith(f"errors/{path.name}:")
    assert "Traceback" not in result.output


def test_check_reports_every_file_and_fails_if_any_fails(in_examples) -> None:
    result = run("check", "affine.circ", "errors/arity.circ", "grids.circ")
    assert result.exit_code == 1
    assert "affine(x: Mod[97]" in result.output and "flip_diagonal" in result.output
    assert "errors/arity.circ:5:3: error:" in result.output


def test_check_missing_file(in_examples) -> None:
    result = run("check", "nowhere.circ")
    assert result.exit_code == 1 and "nowhere.circ: error: no such file" in result.output


@pytest.mark.parametrize("emit", ["ast", "types", "graph", "dot"])
def test_compile_emits_each_stage(emit: str, in_examples) -> None:
    result = run("compile", "polynomial.circ", "--emit", emit)
    assert result.exit_code == 0, result.output
    expected = {
        "ast": "FnDecl",
        "types": "quadratic(x: Mod[97]) -> Mod[97]",
        "graph": "sum_squares",
        "dot": "digraph",
    }
    assert expected[emit] in result.output


def test_compile_entry_option(in_examples) -> None:
    result = run("compile", "polynomial.circ", "--emit", "graph", "--entry", "quadratic")
    assert result.exit_code == 0 and "quadratic(x: Mod[97]) -> Mod[97]" in result.output
    missing = run("compile", "polynomial.circ", "--entry", "nope")
    assert missing.exit_code == 1 and "no function `nope` to compile" in missing.output


def test_compile_bad_emit_is_a_usage_error(in_examples) -> None:
    result = run("compile", "affine.circ", "--emit", "pictures")
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_console_script_runs_without_traceback() -> None:
    """The installed `circ` entry point, in a real process, on a good and a bad file."""
    ok = subprocess.run(
        [sys.executable, "-m", "circ", "check", "affine.circ"], cwd=EXAMPLES, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "main(x: Mod[97]) -> Mod[97]" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "circ", "check", "errors/recursion.circ"],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("errors/recursion.circ:4:4: error: recursion is not allowed")


def test_a_big_graph_table_shows_its_first_nodes_and_says_how_many_more(tmp_path) -> None:
    from circ.cli.show_compile import SHOWN_NODES

    program = tmp_path / "big.circ"
    program.write_text("use stdlib.colors;\nfn main(g: Grid[32, 32]) -> Color { fold(color_max, 0, g) }\n")
    result = runner.invoke(app, ["compile", str(program), "--emit", "graph"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("│ n")]
    assert len(rows) == SHOWN_NODES
    assert "… 51 more nodes (--emit dot writes every node)" in result.output  # 2,051 in all
