"""Sweeps: the grid, its grouping into vmap ensembles, the rows, the CSV and the plot."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from circ.lang.errors import ConfigError
from circ.learn.sweep import (
    Axes,
    Setting,
    load_sweep,
    plot_sweep,
    read_csv,
    run_sweep,
    save_sweep,
    sweep_runs,
)
from circ.learn.train import group_runs


def test_the_grid_is_the_product_of_the_axes() -> None:
    axes = Axes(frac=(0.3, 0.5), d_model=(16, 32), seed=(0, 1, 2))
    assert len(axes.points()) == 12
    assert axes.swept() == ["frac", "d_model"]
    runs, points = sweep_runs(Setting(("mod_add", "mod_sub"), (("p", 7),)), axes)
    assert len(runs) == 24
    assert {(r.frac, r.model.d_model, r.model.d_mlp, r.seed) for r in runs[:12]} == {
        (p["frac"], p["d_model"], 4 * p["d_model"], p["seed"]) for p in points[:12]
    }
    groups = group_runs(runs)  # seeds and same-shape tasks share an ensemble; fractions and widths do not
    assert len(groups) == 4 and all(len(g) == 6 for g in groups)


def test_bad_axes_name_the_field() -> None:
    with pytest.raises(ConfigError, match="frac"):
        Axes(frac=())
    with pytest.raises(ConfigError, match="weight_decay"):
        Axes(weight_decay=(1.0, 1.0))
    with pytest.raises(ConfigError, match="frac"):
        sweep_runs(Setting(("mod_add",), (("p", 7),)), Axes(frac=(1.5,)))


def test_a_small_sweep_measures_steps_to_generalise(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    setting = Setting(("mod_add",), (("p", 5),), steps=60, eval_every=5, target_acc=0.99)
    axes = Axes(frac=(0.6, 0.9), d_model=(16,), seed=(0, 1))
    sweep = run_sweep(setting, axes)
    assert [(r.frac, r.seed) for r in sweep.rows] == [(0.6, 0), (0.6, 1), (0.9, 0), (0.9, 1)]
    for row in sweep.rows:
        assert row.steps_run <= 60
        if row.steps_to_val_99 is not None:  # a member stops at the target, so it ran exactly that far
            assert row.steps_to_val_99 == row.steps_run and row.final_val_acc >= 0.99
        else:
            assert row.steps_run == 60 and row.final_val_acc < 0.99
    save_sweep(tmp_path, sweep)
    assert load_sweep(tmp_path).rows == sweep.rows  # a plot can be redrawn without training again
    table = read_csv(tmp_path / "sweep.csv")
    assert [r["frac"] for r in table] == ["0.6", "0.6", "0.9", "0.9"]
    assert table[0]["task"] == "mod_add[p=5]"
    plot_sweep(tmp_path / "sweep.png", sweep, "test")
    assert (tmp_path / "sweep.png").stat().st_size > 10_000
