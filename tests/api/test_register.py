"""Train → use: `circ train` output registered (checked against its weights), declared, run in a
program and verified — the README's path, through the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from circ.cli import app
from circ.learn.model import load_weights, save_weights
from circ.register import RegisterError, find_weights, read_trained

runner = CliRunner()
TRAIN = [
    "train", "color_max", "--seeds", "2", "--steps", "800", "--d-model", "32", "--heads", "2",
    "--d-mlp", "64", "--lr", "1e-2", "--wd", "0.1", "--frac", "1.0", "--target-acc", "1.0", "--threads", "1",
]  # fmt: skip


def cli(*args: str):
    result = runner.invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "120"})
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Two seeds of color_max trained by `circ train --register`, and the catalog they went to."""
    root = tmp_path_factory.mktemp("train")
    db = f"sqlite:///{root / 'catalog.db'}"
    result = cli(*TRAIN, "--out", str(root / "run"), "--register", "mine.max", "--db", db)
    assert result.exit_code == 0, result.output
    assert "registering color_max-s" in result.output and "the best of 2" in result.output
    assert "registered mine.max@1: (Color, Color) -> Color, task color_max" in result.output
    assert "certificate: 100% exhaustive (100 of 100 inputs run)" in result.output
    return root, db


def test_a_trained_model_runs_in_a_program_two_commands_later(trained, tmp_path: Path) -> None:
    _, db = trained
    declared = cli("catalog", "declare", "mine.max", "--as", "bigger", "--db", db)
    assert declared.exit_code == 0, declared.output
    assert declared.output.splitlines()[1:] == [
        "circuit bigger(a: Color, b: Color) -> Color",
        "  ensures result >= a and result >= b and (result == a or result == b)",
        '  learned "mine.max";',
    ]
    assert "checked against color_max on all 100 inputs" in declared.output.splitlines()[0]
    program = tmp_path / "use.circ"
    program.write_text(declared.output + "\nfn main(xs: Seq[Color, 4]) -> Color { fold(bigger, 0, xs) }\n")
    ran = cli("run", str(program), "-i", "xs=[3,8,1,5]", "--json", "--db", db)
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output)["output"] == 8
    verified = cli("verify", str(program), "--examples", "20", "--db", db)
    assert verified.exit_code == 0, verified.output
    assert "verdict: certified" in verified.output


def test_catalog_add_picks_a_member_and_records_the_training_run(trained) -> None:
    root, db = trained
    several = cli("catalog", "add", str(root / "run"), "--name", "mine.other", "--db", db)
    assert several.exit_code == 1
    assert several.output.strip() == (
        f"error: --member: {root / 'run'} holds 2 models; choose one (0: color_max-s0, 1: color_max-s1)"
    )
    added = cli("catalog", "add", str(root / "run"), "--member", "1", "--name", "mine.other", "--db", db)
    assert added.exit_code == 0, added.output
    assert "registered mine.other@1" in added.output and "color_max-s1" in added.output
    shown = cli("catalog", "show", "mine.other", "--db", db)
    assert "seed 1 finished" in shown.output and "result >= a" in shown.output


def test_weights_that_do_not_match_their_config_task_or_signature_are_refused(
    trained, tmp_path: Path
) -> None:
    root, _ = trained
    source = root / "run" / "color_max-s0" / "model.safetensors"
    state, config, meta = load_weights(source)

    def variant(name: str, **changes: str) -> Path:
        path = tmp_path / name / "model.safetensors"
        path.parent.mkdir()
        save_weights(path, state, config, {**meta, **changes})
        return path

    with pytest.raises(RegisterError, match=r"signature \(Color\) -> Color is not task color_max's"):
        read_trained(variant("sig", signature="(Color) -> Color"))
    with pytest.raises(RegisterError, match=r"model\.vocab: the task needs"):
        read_trained(variant("task", task="mod_add[p=7]"))
    with pytest.raises(RegisterError, match="unknown task 'no_such_task'"):
        read_trained(variant("unknown", task="no_such_task"))
    cut = tmp_path / "cut" / "model.safetensors"
    cut.parent.mkdir()
    smaller = {k: v for k, v in state.items() if not k.startswith("unembed")}
    save_weights(cut, smaller, config, meta)
    with pytest.raises(RegisterError, match="tensor unembed"):
        read_trained(cut)
    (tmp_path / "empty").mkdir()
    with pytest.raises(RegisterError, match="no trained model here"):
        find_weights(tmp_path / "empty")
    single = tmp_path / "single"
    shutil.copytree(source.parent, single)
    assert find_weights(single) == single / "model.safetensors"
