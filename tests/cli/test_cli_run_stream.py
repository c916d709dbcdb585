"""`circ run` streams its rows: chunk size changes nothing but memory, only shown rows are kept
(and traced), and the JSON lines of a chunked run are the unchunked run's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from circ.cli import app
from circ.cli.run import _stream
from circ.verify.row_contracts import NONE, RowContracts

runner = CliRunner()

PROGRAM = """
circuit plus(a: Color, b: Color) -> Color ensures result == (a + b) % 10 learned "t.add";
circuit bigger(a: Color, b: Color) -> Color ensures result >= a and result >= b learned "t.max";

fn main(a: Color, b: Color) -> Color { bigger(plus(a, b), b) }
"""


def reference(a: int, b: int) -> int:
    return max((a + b) % 10, b)


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "prog.circ"
    path.write_text(PROGRAM)
    return path


def run(*args: str):
    return runner.invoke(app, list(args))


def test_chunk_size_changes_no_output(program, trained_catalog) -> None:
    whole = run("run", str(program), "--all", "--json", "--db", trained_catalog)
    chunked = run("run", str(program), "--all", "--json", "--chunk-rows", "7", "--db", trained_catalog)
    assert whole.exit_code == 0 and chunked.exit_code == 0, chunked.output
    rows, again = [[json.loads(line) for line in r.output.splitlines()] for r in (whole, chunked)]
    assert len(rows) == 100 and [r["inputs"] for r in rows] == [r["inputs"] for r in again]
    assert [r["output"] for r in rows] == [r["output"] for r in again]
    for a, b in zip(rows, again, strict=True):
        assert a["output"] == reference(a["inputs"]["a"], a["inputs"]["b"])
        assert a["confidence"] == pytest.approx(b["confidence"], rel=1e-5)


def test_table_of_a_chunked_run_shows_the_first_rows_and_counts_all(program, trained_catalog) -> None:
    result = run("run", str(program), "--all", "--chunk-rows", "3", "--limit", "5", "--db", trained_catalog)
    assert result.exit_code == 0, result.output
    shown = [line for line in result.output.splitlines() if line.startswith("│ 0")]
    assert len(shown) == 5  # a = 0, b = 0…4: the domain in token order across two chunks
    assert "… 95 more rows" in result.output and "100 rows in" in result.output


def test_a_traced_whole_domain_traces_only_the_rows_shown(program, trained_catalog) -> None:
    result = run("run", str(program), "--all", "--trace", "--limit", "2", "--db", trained_catalog)
    assert result.exit_code == 0, result.output
    assert result.output.count("plus [t.add]") == 2
    assert "plus [t.add](0, 0) = 0" in result.output and "plus [t.add](0, 1) = 1" in result.output


def test_a_bad_line_late_in_a_file_is_one_clean_line(program, trained_catalog, tmp_path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"a": 1, "b": 2}\n' * 10 + '{"a": 1, "b": 20}\n')
    result = run("run", str(program), "--inputs", str(rows), "--chunk-rows", "4", "--db", trained_catalog)
    assert result.exit_code == 1
    assert result.output.strip() == f"error: {rows}:11: b: expected Color (0..9), got 20"


class _Chunk:
    """Stands in for a `Ran` chunk: rows, and the head it was asked for."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.heads: list[int] = []

    def head(self, n: int) -> _Chunk:
        self.heads.append(n)
        return _Chunk(min(n, self.rows))


def test_the_stream_keeps_only_the_rows_it_shows(monkeypatch) -> None:
    chunks = [_Chunk(4) for _ in range(1000)]
    seen = []
    monkeypatch.setattr("circ.api.concat", lambda kept: seen.extend(kept) or kept[0])
    monkeypatch.setattr("circ.cli.show_run.row_contracts", lambda c: RowContracts([NONE] * c.rows))
    _, total, tally = _stream(iter(chunks), 4000, limit=6, json_=False)
    assert total == 4000 and tally[NONE] == 4000
    assert [c.heads for c in chunks[:3]] == [[6], [2], []]  # then nothing more is kept
    assert all(not c.heads for c in chunks[2:])
    assert sum(c.rows for c in seen) == 6
