"""`circ run` checks each row against the entry's contract, charges a row only the calls its answer
needs, marks calls outside their `requires`, and refuses circuits without weights before running —
on the shipped Mod[97] circuits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from circ.cli import app

runner = CliRunner()

GUARDED = """use stdlib.modular;
fn main(a: Mod[97], b: Mod[97]) -> Mod[97]
  requires b != 0
{
  div(a, b)
}
"""
WRONG = """use stdlib.modular;
fn main(a: Mod[97]) -> Mod[97]
  ensures result == a
{
  inc(a)
}
"""
BRANCH = """use stdlib.modular;
fn main(a: Mod[97], b: Mod[97]) -> Mod[97] { if is_zero(b) then a else div(a, b) }
"""
UNBACKED = """use stdlib.sequences;
fn main(xs: Seq[Color, 6]) -> (Seq[Color, 6], Seq[Color, 6], Bool) {
  (sort(xs), cumsum(xs), parity(xs))
}
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "CIRC_HOME": str(tmp_path / "home"),
        "CIRC_DB": f"sqlite:///{tmp_path / 'u.db'}",
        "COLUMNS": "200",
    }


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "p.circ"
    path.write_text(text)
    return str(path)


def test_a_row_outside_the_entrys_requires_is_marked_and_strict_fails(tmp_path: Path, env) -> None:
    program = write(tmp_path, GUARDED)
    plain = runner.invoke(app, ["run", program, "-i", "a=10", "-i", "b=0"], env=env)
    assert plain.exit_code == 0, plain.output
    assert "requires ✗" in plain.stdout
    assert "1 of 1 rows break `main`'s requires" in plain.stderr
    strict = runner.invoke(app, ["run", program, "-i", "a=10", "-i", "b=0", "--strict"], env=env)
    assert strict.exit_code == 1
    fine = runner.invoke(app, ["run", program, "-i", "a=10", "-i", "b=3", "--strict"], env=env)
    assert fine.exit_code == 0 and "✓" in fine.stdout and fine.stderr == ""


def test_a_broken_ensures_is_counted_on_every_row(tmp_path: Path, env) -> None:
    result = runner.invoke(app, ["run", write(tmp_path, WRONG), "--all", "--json", "--strict"], env=env)
    assert result.exit_code == 1
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 97 and {r["contract"] for r in rows} == {"ensures ✗"}
    assert "97 of 97 answers break `main`'s ensures" in result.stderr


def test_trace_json_marks_a_call_outside_its_requires(tmp_path: Path, env) -> None:
    unguarded = GUARDED.replace("  requires b != 0\n", "")
    result = runner.invoke(
        app, ["run", write(tmp_path, unguarded), "-i", "a=10", "-i", "b=0", "--trace", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    (call,) = [s for s in row["trace"] if "confidence" in s]
    assert call["what"].startswith("div") and call["requires"] is False and call["taken"] is True
    assert row["contract"] == "—"
    shown = runner.invoke(
        app, ["run", write(tmp_path, unguarded), "-i", "a=10", "-i", "b=0", "--trace"], env=env
    )
    assert "requires ✗" in shown.stdout


def test_an_untaken_branch_does_not_set_the_rows_confidence(tmp_path: Path, env) -> None:
    program = write(tmp_path, BRANCH)
    ran = runner.invoke(app, ["run", program, "--inputs", str(_rows(tmp_path)), "--json", "--trace"], env=env)
    assert ran.exit_code == 0, ran.output
    for row in map(json.loads, ran.stdout.splitlines()):
        calls = [s for s in row["trace"] if "confidence" in s]
        taken = [s["confidence"] for s in calls if s["taken"]]
        assert row["confidence"] == pytest.approx(min(taken))
        skipped = [s for s in calls if not s["taken"]]
        assert len(skipped) == 1 and skipped[0]["what"].startswith("div")
    # the optimised run (batched, no trace) reports the same confidences
    fast = runner.invoke(app, ["run", program, "--inputs", str(_rows(tmp_path)), "--json"], env=env)
    traced = [json.loads(line)["confidence"] for line in ran.stdout.splitlines()]
    assert [json.loads(line)["confidence"] for line in fast.stdout.splitlines()] == pytest.approx(traced)


def _rows(tmp_path: Path) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 10, "b": 0}\n{"a": 4, "b": 0}\n')
    return path


def test_circuits_without_weights_warn_at_check_and_stop_a_run_each_located(tmp_path: Path, env) -> None:
    program = write(tmp_path, UNBACKED)
    checked = runner.invoke(app, ["check", program], env=env)
    assert checked.exit_code == 0, checked.output
    for name, column in (("sort", 4), ("cumsum", 14), ("parity", 26)):
        assert f"p.circ:3:{column}: warning: `{name}` has no weights in the catalog" in checked.stderr
    ran = runner.invoke(app, ["run", program, "-i", "xs=[1,2,3,4,5,6]"], env=env)
    assert ran.exit_code == 1 and "Traceback" not in ran.output
    assert ran.stderr.count("has no weights in the catalog") == 3 and "p.circ:3:26: error" in ran.stderr


def test_check_opens_the_database_only_for_circuits_the_stdlib_lacks(tmp_path: Path, env) -> None:
    """The stdlib answers first (no SQLAlchemy for a stdlib-only program); a circuit only the user's
    database holds is still found there, and a version neither holds still warns."""
    from circ.settings import Settings

    with Settings.from_env(environ=env).open_catalog() as catalog:
        shipped = catalog.get("mod97.add")
        weights = catalog.load_weights("mod97.add")
        catalog.register_circuit("mine.add", shipped.signature, "", shipped.task, None, weights)
    program = write(
        tmp_path,
        'circuit mine(a: Mod[97], b: Mod[97]) -> Mod[97]\n  learned "mine.add";\n'
        'circuit old(a: Mod[97], b: Mod[97]) -> Mod[97]\n  learned "mod97.add@99";\n'
        'circuit new(a: Mod[97], b: Mod[97]) -> Mod[97]\n  learned "mod97.add";\n',
    )
    checked = runner.invoke(app, ["check", program], env=env)
    assert checked.exit_code == 0, checked.output
    assert checked.stderr.count("has no weights") == 1, checked.stderr
    assert "p.circ:3:1: warning: `old` has no weights" in checked.stderr
