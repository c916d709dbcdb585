"""`circ data list|sample` and `circ train` through typer's CliRunner against the real app."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from circ.cli import app
from circ.learn.data import families

runner = CliRunner()


def test_data_list_shows_every_family() -> None:
    result = runner.invoke(app, ["data", "list"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for fam in families():
        assert fam.name in result.output
    assert "(Mod[97], Mod[97]) -> Mod[97]" in result.output and "9,409" in result.output


def test_data_sample_prints_correct_examples_in_circ_syntax() -> None:
    result = runner.invoke(app, ["data", "sample", "mod_mul", "--p", "11", "-n", "5"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("mod_mul(")]
    assert len(lines) == 5
    for line in lines:
        a, b, c = map(int, re.fullmatch(r"mod_mul\((\d+), (\d+)\) = (\d+)", line).groups())  # type: ignore[union-attr]
        assert a * b % 11 == c
    grid = runner.invoke(app, ["data", "sample", "compose(grid_rot90,grid_vmirror)", "--h", "2", "--w", "2"])
    assert grid.exit_code == 0 and "compose(grid_rot90,grid_vmirror)([[" in grid.output


def test_user_errors_are_one_line_and_exit_1() -> None:
    cases = [
        (["data", "sample", "mod_ad"], "error: task: unknown task 'mod_ad'; did you mean mod_add"),
        (["data", "sample", "mod_div", "--p", "12"], "error: p: must be a prime, got 12"),
        (["data", "sample", "mod_add", "-P", "x"], "error: param: expected KEY=INT"),
        (["train", "mod_add", "--heads", "5"], "error: model.n_heads: must divide d_model="),
        (["train", "mod_add", "--frac", "1.5"], "error: frac:"),
        (["train", "mod_add", "--len", "4"], "error: n: no task in mod_add takes this parameter"),
        (["train", "seq_sort", "--lr", "-1"], "error: optim.lr:"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_train_writes_curves_plot_and_weights(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = [
        "train",
        "mod_add",
        "--p",
        "5",
        "--seeds",
        "2",
        "--steps",
        "20",
        "--d-model",
        "32",
        "--eval-every",
        "5",
        "--out",
        str(out),
        "--threads",
        "1",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "mod_add-p5-s1" in result.output
    curves = json.loads((out / "curves.json").read_text())
    assert set(curves) == {"mod_add-p5-s0", "mod_add-p5-s1"}
    assert (out / "curves.png").exists() and (out / "mod_add-p5-s0" / "model.safetensors").exists()
    assert list((out / "checkpoints").glob("*.pt"))
