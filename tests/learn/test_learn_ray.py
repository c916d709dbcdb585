"""Scale-out on a local Ray instance (skipped unless the `dist` extra, Ray, is installed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from circ.cli import app
from circ.learn.run import make_runs
from circ.learn.train import EvalEvent, train

ray = pytest.importorskip("ray")

SMALL = {"d_model": 32, "n_heads": 4, "d_mlp": 64}


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_groups_on_ray_match_in_process_training(local_ray: None, tmp_path: Path) -> None:
    runs = [
        *make_runs(["mod_add"], [0, 1], params={"p": 5}, model=SMALL, steps=15, eval_every=5),
        *make_runs(["seq_succ"], [0], params={"n": 2}, model=SMALL, steps=15, eval_every=5),
    ]
    events: list[EvalEvent] = []
    remote = train(runs, ray="local", out_dir=tmp_path, on_eval=events.append)
    local = train(runs)
    assert sorted(e.group for e in events) == [0, 1]  # one report per finished group
    for a, b in zip(remote, local, strict=True):
        assert a.run == b.run and a.steps == b.steps == 15
        assert [r["step"] for r in a.curves] == [0, 5, 10, 15]
        for k in a.state:
            assert (a.state[k] - b.state[k]).abs().max().item() < 1e-5, k
    assert set(json.loads((tmp_path / "curves.json").read_text())) == {r.name for r in runs}
    assert len(list((tmp_path / "checkpoints").glob("*.pt"))) == 2  # written by the workers


def test_cli_train_with_ray(local_ray: None, tmp_path: Path) -> None:
    args = [
        "train",
        "mod_add",
        "--p",
        "5",
        "--seeds",
        "2",
        "--steps",
        "10",
        "--d-model",
        "32",
        "--out",
        str(tmp_path),
        "--ray",
        "--threads",
        "1",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "on Ray (local)" in result.output
    assert (tmp_path / "mod_add-p5-s1" / "model.safetensors").exists()
