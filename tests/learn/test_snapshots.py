"""Weight snapshots along training: where they go, and that resuming rewrites them identically."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from circ.learn.model import load_weights
from circ.learn.run import make_runs
from circ.learn.train import EvalEvent, log_steps, train


class Interrupt(Exception):
    pass


def test_log_steps_are_log_spaced_multiples_of_the_eval_cadence() -> None:
    steps = log_steps(5000, 12, 10)
    assert steps[0] == 0 and steps[-1] == 5000
    assert all(s % 10 == 0 for s in steps) and steps == sorted(set(steps))
    ratios = [b / a for a, b in itertools.pairwise(steps[1:])]
    assert max(ratios) < 2.5  # even on a log axis, not bunched at the end
    assert log_steps(100, 0) == []


def test_snapshots_survive_an_interrupted_run_bit_for_bit(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    runs = make_runs(
        ["mod_add"], [0, 1], params={"p": 7}, model={"d_model": 16, "d_mlp": 32}, steps=40, eval_every=2
    )
    snaps = [0, 6, 14, 30, 40]
    train(runs, out_dir=tmp_path / "full", snapshot_steps=snaps)

    def stop_at_20(event: EvalEvent) -> None:
        if event.step == 20:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(runs, out_dir=tmp_path / "cut", snapshot_steps=snaps, ckpt_every=10, on_eval=stop_at_20)
    train(runs, out_dir=tmp_path / "cut", snapshot_steps=snaps, ckpt_every=10, resume=True)
    for run in runs:
        full = sorted((tmp_path / "full" / run.name / "snapshots").glob("*.safetensors"))
        cut = sorted((tmp_path / "cut" / run.name / "snapshots").glob("*.safetensors"))
        assert [p.name for p in full] == [f"step-{s:07d}.safetensors" for s in snaps]
        assert [p.name for p in cut] == [p.name for p in full]
        for a, b in zip(full, cut, strict=True):
            wa, _, meta = load_weights(a)
            wb, _, _ = load_weights(b)
            assert all(torch.equal(wa[k], wb[k]) for k in wa), a.name
            assert int(meta["steps"]) == int(a.stem.split("-")[1])
