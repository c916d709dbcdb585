"""Curves: loss spikes are found where a researcher would point at them, and the plot draws them."""

from __future__ import annotations

from pathlib import Path

from circ.learn.curves import first_step, loss_spikes, plot_curves


def records(train_loss: list[float]) -> list[dict[str, float]]:
    return [
        {"step": 10 * i, "train_loss": x, "val_loss": x, "train_acc": 1.0, "val_acc": 1.0, "weight_norm": 1.0}
        for i, x in enumerate(train_loss)
    ]


def test_a_spike_is_a_leap_past_a_hundred_times_the_running_minimum() -> None:
    # 4.6 → 1e-6 (falling is no spike) → 0.5 (a spike at step 40, lasting two evaluations) → 1e-7
    # → 0.02 (a spike at 80) → 1e-4 (above 100× the minimum but under the 0.01 floor: none)
    losses = [4.6, 1e-2, 1e-4, 1e-6, 0.5, 0.3, 1e-7, 1e-7, 0.02, 1e-7, 1e-4]
    assert loss_spikes(records(losses)) == [40, 80]
    assert loss_spikes(records([4.6, 3.0, 1.0, 0.1])) == []


def test_first_step() -> None:
    rs = [{"step": 0, "val_acc": 0.1}, {"step": 10, "val_acc": 0.995}, {"step": 20, "val_acc": 1.0}]
    assert first_step(rs, "val_acc", 0.99) == 10
    assert first_step(rs, "val_acc", 1.01) is None


def test_the_plot_has_a_log_axis_and_notes(tmp_path: Path) -> None:
    losses = [4.6, 1e-2, 1e-4, 1e-6, 0.5, 0.3, 1e-7]
    plot_curves(tmp_path / "c.png", {"run": records(losses)}, title="t", note="measured on the whole splits")
    assert (tmp_path / "c.png").stat().st_size > 10_000
