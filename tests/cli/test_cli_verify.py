"""`circ verify` end to end on the examples, over a fresh install's catalog (the packaged stdlib)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from circ.cli import app

runner = CliRunner()


@pytest.fixture
def verify(tmp_path: Path, in_examples):
    db = f"sqlite:///{tmp_path / 'empty.db'}"

    def run(*args: str):
        return runner.invoke(app, ["verify", *args, "--db", db, "--examples", "20"])

    return run


def test_a_certified_run(verify) -> None:
    result = verify("combinators.circ")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "circ verify combinators.circ" and lines[-1] == "verdict: certified"
    assert "✓ proved    brighten ensures forall i in 0..6: result[i] == (xs[i] + 2) % 10" in result.output
    assert "│ color_succ  │ color.succ        │    12 │ 100% exhaustive │ ✓ all 10 inputs" in result.output
    assert (
        "union bound on the program's error rate: 0 (every call is exact on its whole domain)"
        in result.output
    )


def test_json_for_machines(verify) -> None:
    result = verify("combinators.circ", "--json")
    report = json.loads(result.output)
    assert report["verdict"] == "certified" and report["ok"] is True
    assert [o["status"] for o in report["obligations"]] == ["proved"]
    assert {p["function"]: p["passed"] for p in report["properties"]} == {"brighten": True, "main": True}


def test_a_refuted_program_shows_the_counter_model_and_the_shrunk_input(verify) -> None:
    result = verify("refuted/wrap_around.circ")
    assert result.exit_code == 1
    out = result.output
    assert "refuted/wrap_around.circ:6:11: error: `add_two` may break `ensures result == c + 2`" in out
    assert "     6 |   ensures result == c + 2\n       |           ^^^^^^^^^^^^^^^" in out
    assert "= note: counter-model: c = " in out
    assert "add_two fails on the minimal input c = 8" in out
    assert "├── color_succ [color.succ](9) = 0  p=" in out
    assert out.splitlines()[-1] == "verdict: failed: 1 obligation refuted; property tests failed in add_two"


def test_a_refuted_program_as_json(verify) -> None:
    report = json.loads(verify("refuted/wrap_around.circ", "--json").output)
    [obligation] = report["obligations"]
    assert obligation["status"] == "refuted" and obligation["location"] == "refuted/wrap_around.circ:6:11"
    assert set(obligation["counter_model"]) == {"c", "color_succ(c)", "result"}
    failure = next(p["failure"] for p in report["properties"] if p["failure"])
    assert failure["input"] == {"c": "8"} and [s["step"] for s in failure["trace"]][-1] == "output"


HARD = """use stdlib.modular;
type Z = Mod[97];
fn p(x: Z, b: Z, c: Z) -> Z ensures result == ((x * x + 1) * (x * x + 2)) % 97 or b + c < 0
{ add(mul(mul(x, x), add(mul(x, x), 3)), 2) }
fn main(x: Z, b: Z, c: Z) -> Z { p(x, b, c) }
"""


def test_a_timeout_leaves_an_obligation_unproved(verify, tmp_path: Path) -> None:
    """Z3 runs out of time and 97³ ≈ 9·10⁵ inputs are many — but within reach: give it 2 parameters
    more than can be listed, so nothing decides it."""
    program = tmp_path / "hard.circ"
    program.write_text(HARD.replace("c: Z)", "c: Z, d: Z, e: Z)").replace("p(x, b, c)", "p(x, b, c, d, e)"))
    result = verify(str(program), "--timeout", "0.001", "--json", "--examples", "3")
    report = json.loads(result.output)
    unknown = [o for o in report["obligations"] if o["status"] in ("unknown", "unproved")]
    assert unknown and unknown[0]["reason"] in ("timeout", "canceled")
    assert report["verdict"].startswith("unproved: ") and "obligation" in report["verdict"]
    assert result.exit_code == 2, "undecided is not refuted"


def test_an_unavailable_circuit_is_a_report_line_not_a_traceback(verify, tmp_path: Path) -> None:
    program = tmp_path / "gone.circ"
    program.write_text(
        'circuit gone(c: Color) -> Color learned "t.gone";\nfn main(c: Color) -> Color { gone(c) }\n'
    )
    result = verify(str(program))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "circuit unavailable: t.gone: unknown circuit 't.gone'" in result.output
    assert result.output.splitlines()[-1] == "verdict: failed: circuit unavailable: t.gone"


@pytest.mark.parametrize(
    ("file", "first_line"),
    [
        ("nope.circ", "nope.circ: error: no such file"),
        (
            "errors/parse_missing_semicolon.circ",
            "errors/parse_missing_semicolon.circ:6:3: error: expected ';'",
        ),
    ],
)
def test_bad_input_is_a_located_diagnostic(verify, file: str, first_line: str) -> None:
    result = verify(file)
    assert result.exit_code == 1 and result.output.startswith(first_line)
    assert "Traceback" not in result.output
