"""`circ run` end to end: a program, a real catalog in SQLite, circuits trained in the test session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from circ.cli import app
from circ.learn.catalog import Catalog
from circ.learn.data import get_task

from support import TRAINED, register_model

runner = CliRunner()

PROGRAM = """
circuit plus(a: Color, b: Color) -> Color ensures result == (a + b) % 10 learned "t.add";
circuit bigger(a: Color, b: Color) -> Color ensures result >= a and result >= b learned "t.max";

fn main(a: Color, b: Color) -> Color
  ensures result == (if (a + b) % 10 >= b then (a + b) % 10 else b)
{
  bigger(plus(a, b), b)
}
"""


@pytest.fixture
def catalog_db(tmp_path: Path, color_provider) -> str:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    with Catalog(url, tmp_path / "blobs") as catalog:
        for name, task in TRAINED.items():
            model = color_provider.models[name].model
            register_model(catalog, name, get_task(task).key, model)
    return url


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "prog.circ"
    path.write_text(PROGRAM)
    return path


def run(*args: str):
    return runner.invoke(app, list(args))


def reference(a: int, b: int) -> int:
    return max((a + b) % 10, b)


def test_one_row(program, catalog_db) -> None:
    result = run("run", str(program), "--input", "a=7", "-i", "b=5", "--db", catalog_db)
    assert result.exit_code == 0, result.output
    [row] = [line for line in result.output.splitlines() if line.startswith("│ 7")]
    cells = [cell.strip() for cell in row.strip("│").split("│")]
    assert cells[:3] == ["7", "5", "5"] and 0.5 < float(cells[3]) <= 1
    assert "1 row in" in result.output


def test_whole_domain_as_json_matches_the_reference(program, catalog_db) -> None:
    result = run("run", str(program), "--all", "--json", "--db", catalog_db)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert len(rows) == 100
    for row in rows:
        assert row["output"] == reference(row["inputs"]["a"], row["inputs"]["b"])
        assert 0 < row["confidence"] <= 1


def test_jsonl_inputs(program, catalog_db, tmp_path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"a": 1, "b": 2}\n{"a": 9, "b": 9}\n')
    result = run("run", str(program), "--inputs", str(rows), "--json", "--db", catalog_db)
    assert [json.loads(line)["output"] for line in result.output.splitlines()] == [3, 9]


def test_trace_shows_each_circuit_with_its_contract(program, catalog_db) -> None:
    result = run("run", str(program), "-i", "a=7", "-i", "b=5", "--trace", "--db", catalog_db)
    assert result.exit_code == 0, result.output
    assert "plus [t.add](7, 5) = 2" in result.output and "bigger [t.max](2, 5) = 5" in result.output
    assert result.output.count("ensures ✓") == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-i", "a=12", "-i", "b=1"], "error: a: expected Color (0..9), got 12"),
        (["-i", "a=1"], "error: b: missing (give every parameter: a, b)"),
        (["-i", "c=1"], "error: c: no such parameter (the program takes a, b)"),
        (["--all", "-i", "a=1"], "error: give one of --input, --inputs or --all"),
    ],
)
def test_bad_inputs_are_one_clean_line(program, catalog_db, args: list[str], message: str) -> None:
    result = run("run", str(program), *args, "--db", catalog_db)
    assert result.exit_code == 1 and result.output.strip() == message


def test_a_circuit_missing_from_the_catalog(program, tmp_path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    result = run("run", str(program), "--all", "--db", empty)
    assert result.exit_code == 1 and "t.add" in result.output and "Traceback" not in result.output


def test_a_corrupted_weights_file_is_refused_not_run(program, catalog_db, tmp_path) -> None:
    for blob in (tmp_path / "blobs").rglob("*.safetensors"):
        data = bytearray(blob.read_bytes())
        data[-1] ^= 0xFF
        blob.write_bytes(bytes(data))
    result = run("run", str(program), "--all", "--db", catalog_db)
    assert result.exit_code == 1 and result.output.startswith("error: ") and "Traceback" not in result.output


def test_source_errors_are_located(tmp_path, catalog_db) -> None:
    bad = tmp_path / "bad.circ"
    bad.write_text("fn main(a: Color) -> Color { a + 1 }\n")
    result = run("run", str(bad), "-i", "a=1", "--db", catalog_db)
    assert result.exit_code == 1 and result.output.startswith(f"{bad}:1:32: error:")
