"""Output that fits: traces grouped by function and wrapped at 80 columns, summaries of long traces,
the catalog table at 80 columns, `--version`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from circ.cli import app

runner = CliRunner()

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PRELUDE = """
circuit plus(a: Color, b: Color) -> Color ensures result == (a + b) % 10 learned "t.add";
circuit bigger(a: Color, b: Color) -> Color ensures result >= a and result >= b learned "t.max";
"""

TWICE = (
    PRELUDE
    + """
fn twice(a: Color, b: Color) -> Color { plus(plus(a, b), b) }

fn main(a: Color, b: Color) -> Color { bigger(twice(a, b), twice(b, a)) }
"""
)

# 49 calls of `plus` in one row: past the summary threshold
FOLD = PRELUDE + "fn main(g: Grid[7, 7]) -> Color { fold(plus, 0, g) }\n"
GRID = "[" + ",".join(["[1,1,1,1,1,1,1]"] * 7) + "]"


def run(*args: str, width: int = 80):
    return runner.invoke(app, list(args), env={"COLUMNS": str(width), "NO_COLOR": "1"})


@pytest.fixture
def program(tmp_path: Path):
    def write(text: str) -> Path:
        path = tmp_path / "prog.circ"
        path.write_text(text)
        return path

    return write


def test_a_trace_groups_calls_by_function_in_source_order(program, trained_catalog) -> None:
    path = program(TWICE)
    result = run("run", str(path), "-i", "a=7", "-i", "b=5", "--trace", "--db", trained_catalog)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    heads = [i for i, line in enumerate(lines) if "twice(" in line and "[t.add]" not in line]
    assert [lines[i].split("──")[-1].strip() for i in heads] == ["twice(a, b)  7:47", "twice(b, a)  7:60"]
    first, second = heads
    # a=7, b=5: twice(7, 5) = plus(plus(7, 5), 5) = plus(2, 5) = 7, inner call first, nested under it
    assert "│   ├── plus [t.add](7, 5) = 2" in lines[first + 1]
    assert "│   └── plus [t.add](2, 5) = 7" in lines[first + 2]
    assert "plus [t.add](5, 7) = 2" in lines[second + 1]
    assert "bigger [t.max](7, 9) = 9" in lines[second + 3]
    assert lines[-1].startswith("└── output = 9")
    assert all(len(line) <= 80 for line in lines)


def test_a_long_value_wraps_instead_of_being_cropped(program, trained_catalog) -> None:
    path = program(PRELUDE + "fn main(xs: Seq[Color, 30]) -> Seq[Color, 30] { zip_with(plus, xs, xs) }\n")
    xs = "[" + ",".join(["3"] * 29 + ["4"]) + "]"
    result = run("run", str(path), "-i", f"xs={xs}", "--trace", "--db", trained_catalog)
    assert result.exit_code == 0, result.output
    assert all(len(line) <= 80 for line in result.output.splitlines())
    flat = " ".join(line.strip("│├└─ ") for line in result.output.splitlines())
    assert "3, 3, 4]" in flat and "6, 6, 8]" in flat  # both ends of the input and the output are there


def test_a_large_trace_is_summarised_and_trace_all_lists_every_call(program, trained_catalog) -> None:
    path = program(FOLD)
    result = run("run", str(path), "-i", f"g={GRID}", "--trace", "--db", trained_catalog)
    assert result.exit_code == 0, result.output
    assert "49 circuit calls (--trace-all lists each)" in result.output
    assert result.output.count("plus [t.add](") == 0  # no call listed one by one
    row = next(line for line in result.output.splitlines() if "plus [t.add] " in line)
    assert row.split()[-3] == "49" and row.split()[-1] == "0"  # calls, …, contract failures
    assert "output = 9" in result.output  # 49 ones summed mod 10
    full = run("run", str(path), "-i", f"g={GRID}", "--trace-all", "--db", trained_catalog)
    assert full.exit_code == 0 and full.output.count("plus [t.add](") == 49


def test_grids_are_drawn_as_grids(program, trained_catalog) -> None:
    path = program(PRELUDE + "fn main(g: Grid[2, 3]) -> Grid[2, 3] { zip_with(plus, g, g) }\n")
    result = run("run", str(path), "-i", "g=[[1,2,3],[4,5,6]]", "--trace", "--db", trained_catalog)
    assert result.exit_code == 0, result.output
    assert "│   1 2 3" in result.output and "    2 4 6" in result.output  # input g, then the output grid


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0 and result.output.startswith("circ 0.")


def test_the_catalog_table_keeps_names_whole_at_80_columns() -> None:
    result = run("catalog", "list", "--db", "sqlite://")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert any(line.startswith("color.is_background@1 ") for line in lines)
    assert any("(Seq[Color, 6]) -> Seq[Color, 6]" in line for line in lines)
    wide = run("catalog", "list", "--db", "sqlite://", width=160)
    assert "seq_reverse[n=6]" in wide.output and "stdlib" in wide.output
