"""`circ analyse` and `circ sweep` as a user runs them: on a run folder, on a shipped circuit, with
`--record` into the catalog; files written, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from circ.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A private data dir and database in front of the real (read-only) stdlib catalog."""
    return {
        "CIRC_HOME": str(tmp_path / "home"),
        "CIRC_DB": f"sqlite:///{tmp_path / 'user.db'}",
        "COLUMNS": "250",
    }


def one_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_analyse_a_shipped_circuit_and_record_its_mechanism(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "sub"
    result = runner.invoke(app, ["analyse", "mod97.sub", "--out", str(out), "--record"], env=env)
    assert result.exit_code == 0, result.output
    assert "key frequencies" in result.output and "45 47 23 25 19 36" in result.output
    summary = json.loads((out / "mechanism.json").read_text())
    assert summary["key_frequencies"] == [45, 47, 23, 25, 19, 36]
    assert summary["ablation"]["restricted_acc"] == 1.0
    for png in ("spectrum.png", "neurons.png", "attention.png"):
        assert (out / png).stat().st_size > 10_000
    shown = runner.invoke(app, ["catalog", "show", "mod97.sub"], env=env)
    assert shown.exit_code == 0, shown.output
    assert (
        "mechanism" in shown.output
        and "Fourier subtraction, key frequencies 19 23 25 36 45 47" in shown.output
    )


def test_analyse_a_training_run_with_snapshots(env: dict[str, str], tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    args = ["train", "mod_add", "--p", "7", "--d-model", "16", "--steps", "60", "--target-acc", "0"]
    trained = runner.invoke(
        app, [*args, "--snapshots", "5", "--threads", "1", "--out", str(run_dir)], env=env
    )
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(app, ["analyse", str(run_dir)], env=env)
    assert result.exit_code == 0, result.output
    assert "phases" in result.output
    out = run_dir / "analysis" / "mod_add-p7-s0"
    summary = json.loads((out / "mechanism.json").read_text())
    snapshots = sorted((run_dir / "mod_add-p7-s0" / "snapshots").glob("*.safetensors"))
    assert [p["step"] for p in summary["progress"]] == [int(p.stem.split("-")[1]) for p in snapshots]
    assert summary["phases"]["spans"][0][:2] == ["memorisation", 0]
    assert all(p["restricted_loss"] is not None for p in summary["progress"])
    assert (out / "progress.png").stat().st_size > 10_000


def test_analyse_errors_are_one_line(env: dict[str, str], tmp_path: Path) -> None:
    assert "unknown circuit" in one_error(runner.invoke(app, ["analyse", "mod97.nope"], env=env))
    (tmp_path / "runs.json").write_text("[]")
    (tmp_path / "curves.json").write_text("{}")
    assert "record" in one_error(runner.invoke(app, ["analyse", str(tmp_path), "--record"], env=env))
    assert "window" in one_error(runner.invoke(app, ["analyse", "mod97.sub", "--window", "0"], env=env))


def test_sweep_writes_its_table_and_plot(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", "mod_add", "--p", "5", "--frac", "0.6,0.9", "--d-model", "16", "--seeds", "2"]
    result = runner.invoke(app, [*args, "--steps", "40", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "reached 99% val" in result.output
    assert len((out / "sweep.csv").read_text().splitlines()) == 5  # header + 2 fractions × 2 seeds
    assert (out / "sweep.png").stat().st_size > 10_000
    assert "frac" in one_error(runner.invoke(app, ["sweep", "mod_add", "--frac", "half"], env=env))
