"""Bad `circ train` options are refused before any training, each naming its field — and a run
that diverges says so and exits 1 instead of shipping a NaN model (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from circ.cli import app

runner = CliRunner()
TINY = ["train", "color_add", "--steps", "3", "--d-model", "16", "--heads", "2", "--seeds", "1"]

REFUSED = {
    "--lr nan": (["--lr", "nan"], "optim.lr: must be a finite non-negative number, got nan"),
    "--lr inf": (["--lr", "inf"], "optim.lr: must be a finite"),
    "--wd nan": (["--wd", "nan"], "optim.weight_decay: must be a finite"),
    "--device bogus": (["--device", "bogus"], "device: unknown device 'bogus'"),
    "--device cuda without a GPU": (["--device", "cuda"], "this machine has no CUDA GPU"),
    "--d-mlp 0": (["--d-mlp", "0"], "d_mlp: must be >= 1, got 0"),
    "--threads 0": (["--threads", "0"], "threads: must be >= 1"),
    "a 100,001-token vocabulary": (["--p", "100000"], "model.vocab: must be at most 8,192 tokens"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_bad_option_is_one_named_error(case: str, tmp_path: Path) -> None:
    extra, expected = REFUSED[case]
    task = ["train", "mod_add"] if "--p" in extra else TINY[:2]  # --p is a Mod[p] task's parameter
    result = runner.invoke(app, [*task, *TINY[2:], *extra, "--out", str(tmp_path / "run")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit | None)
    assert "Traceback" not in result.output and expected in result.stderr, result.output
    assert not (tmp_path / "run" / "curves.json").exists()  # refused before training


def test_an_out_that_is_a_file_is_refused_before_training(tmp_path: Path) -> None:
    taken = tmp_path / "file"
    taken.write_text("mine")
    result = runner.invoke(app, [*TINY, "--out", str(taken)])
    assert result.exit_code == 1 and "out: " in result.stderr and "is not a folder" in result.stderr
    assert taken.read_text() == "mine"


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", None], ids=["empty", "garbage", "folder"])
def test_resume_from_a_damaged_checkpoint_is_one_error(content: bytes | None, tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = runner.invoke(app, [*TINY, "--out", str(out)])
    assert first.exit_code == 0, first.output
    (ckpt,) = (out / "checkpoints").glob("*.pt")
    ckpt.unlink()
    if content is None:
        ckpt.mkdir()
    else:
        ckpt.write_bytes(content)
    result = runner.invoke(app, [*TINY, "--out", str(out), "--resume"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "resume: " in result.stderr and ckpt.name in result.stderr, result.output


def test_resume_with_other_seeds_does_not_silently_start_over(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert runner.invoke(app, [*TINY, "--out", str(out)]).exit_code == 0
    result = runner.invoke(app, [*TINY, "--seed", "5", "--out", str(out), "--resume"])
    assert (
        result.exit_code == 1
        and "no checkpoint in" in result.stderr
        and "belongs to these runs" in result.stderr
    )
    changed = runner.invoke(app, [*TINY[:3], "4", *TINY[4:], "--out", str(out), "--resume"])
    assert changed.exit_code == 1 and "belongs to these runs" in changed.stderr  # --steps 4, not 3


def test_a_diverged_run_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(app, [*TINY, "--lr", "1e30", "--out", str(tmp_path / "run")])
    assert result.exit_code == 1 and "diverged (non-finite loss): color_add-s0" in result.output
