"""The clean-up stop: the rule on curves, and the train loop that trains through clean-up with it."""

from __future__ import annotations

import pytest

from circ.lang.errors import ConfigError
from circ.learn.analyse.cleanup import GINI, cleanup_step
from circ.learn.run import OptimConfig, make_runs
from circ.learn.train import train


def records(val: list[float], gini: list[float], every: int = 100) -> list[dict[str, float]]:
    return [
        {"step": i * every, "val_acc": v, GINI: g} for i, (v, g) in enumerate(zip(val, gini, strict=True))
    ]


def test_clean_up_ends_when_the_spectrum_settles_after_the_target() -> None:
    val = [0.0, 0.2, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    gini = [0.1, 0.2, 0.3, 0.4, 0.5, 0.505, 0.508, 0.509]
    # target at step 200; from step 400 on, compare with 200 steps back: 500 - 300 rises 0.105,
    # 600 - 400 rises 0.008 < 0.01
    assert cleanup_step(records(val, gini), 1.0, 200) == 600
    assert cleanup_step(records(val, gini), 1.0, 300) == 700
    assert cleanup_step(records(val[:5], gini[:5]), 1.0, 200) is None  # still rising at the end
    assert cleanup_step(records([0.5] * 8, gini), 1.0, 200) is None  # never at target


def test_a_val_dip_postpones_the_stop() -> None:
    val = [1.0, 1.0, 1.0, 0.7, 1.0]
    gini = [0.5, 0.5, 0.5, 0.5, 0.5]
    assert cleanup_step(records(val, gini), 1.0, 200) == 200
    assert cleanup_step(records([0.9, 1.0, 1.0, 0.7, 1.0], gini), 1.0, 200) == 400


def test_training_through_clean_up_stops_later_and_sparser() -> None:
    """mod_add p=23, frac 0.7, seed 5 (measured: 100% val first at step 190, the embedding still
    getting sparser): with a 150-step window it trains on until the spectrum has settled."""
    runs = make_runs(
        ["mod_add"],
        [5],
        params={"p": 23},
        model={"d_model": 64, "d_mlp": 256},
        optim=OptimConfig(lr=1e-2),
        frac=0.7,
        steps=1500,
        eval_every=10,
        target_acc=1.0,
        cleanup_window=150,
    )
    result = train(runs)[0]
    first = next(r for r in result.curves if r["val_acc"] == 1.0)
    assert result.stopped_early
    assert result.steps >= first["step"] + 150
    assert result.final["val_acc"] == 1.0
    assert result.final[GINI] > first[GINI] + 0.02
    assert cleanup_step(result.curves, 1.0, 150) == result.steps


def test_clean_up_needs_a_target_and_a_modular_task() -> None:
    with pytest.raises(ConfigError, match="cleanup_window"):
        make_runs(["mod_add"], [0], params={"p": 7}, cleanup_window=100)
    with pytest.raises(ConfigError, match="no Mod"):
        make_runs(["color_add"], [0], target_acc=1.0, cleanup_window=100)
