"""Training curves: one record per evaluation, saved as JSON and drawn as a PNG.

A record is `{"step", "train_loss", "train_acc", "val_loss", "val_acc", "weight_norm"}`, measured on
the weights after `step` updates (accuracy = whole output decoded right), plus `"spectrum_gini"` for
Mod[p] tasks (the embedding's Fourier sparsity, `circ.learn.analyse.cleanup`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

Record = dict[str, float]
METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "weight_norm")


def save_curves(path: Path, curves: Mapping[str, Sequence[Record]]) -> None:
    """`curves`: run name → records."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(curves, indent=1))
    tmp.replace(path)


def load_curves(path: Path) -> dict[str, list[Record]]:
    return json.loads(path.read_text())


SPIKE_FACTOR = 100.0  # a train loss this many times its running minimum …
SPIKE_FLOOR = 0.01  # … and above this (nats) is a spike; at lr 1e-2 train loss jumps 1e-7 → 1e-2 … 3


def loss_spikes(records: Sequence[Record]) -> list[int]:
    """Steps where a train-loss spike starts: the loss leaps past SPIKE_FACTOR × its lowest value so
    far (and past SPIKE_FLOOR) after having been below that line at the previous evaluation."""
    spikes, low, inside = [], float("inf"), False
    for r in records:
        loss = r["train_loss"]
        high = loss > max(SPIKE_FLOOR, SPIKE_FACTOR * low)
        if high and not inside:
            spikes.append(int(r["step"]))
        inside = high
        low = min(low, loss)
    return spikes


def first_step(records: Sequence[Record], key: str, at_least: float) -> int | None:
    """The first evaluated step where `key` reaches `at_least`, or None."""
    return next((int(r["step"]) for r in records if r.get(key, float("-inf")) >= at_least), None)


def plot_curves(path: Path, curves: Mapping[str, Sequence[Record]], title: str = "", note: str = "") -> None:
    """Loss (log scale), accuracy, weight norm (and the embedding's Fourier Gini, when recorded) against
    a log step axis, one colour per run; train-loss spikes marked ▼, and with a few runs each one's
    first step at 99% val accuracy dotted. `note` (e.g. which examples were measured) goes under the
    title."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on training machines
    import matplotlib.pyplot as plt

    has_gini = any("spectrum_gini" in r for records in curves.values() for r in records)
    n_panels = 4 if has_gini else 3
    fig, axes = plt.subplots(1, n_panels, figsize=(5 * n_panels, 4.4))
    ax_loss, ax_acc, ax_norm = axes[:3]
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    spiked: list[int] = []
    first = min((r["step"] for rs in curves.values() for r in rs if r["step"] > 0), default=1)
    for i, (name, records) in enumerate(curves.items()):
        steps = [r["step"] for r in records]
        c = colours[i % len(colours)]
        label = name if len(curves) <= 12 else None
        ax_loss.plot(steps, [r["train_loss"] for r in records], color=c, ls="--", lw=1)
        ax_loss.plot(steps, [r["val_loss"] for r in records], color=c, lw=1, label=label)
        ax_acc.plot(steps, [r["train_acc"] for r in records], color=c, ls="--", lw=1)
        ax_acc.plot(steps, [r["val_acc"] for r in records], color=c, lw=1, label=label)
        ax_norm.plot(steps, [r["weight_norm"] for r in records], color=c, lw=1, label=label)
        if has_gini:
            axes[3].plot(steps, [r.get("spectrum_gini", float("nan")) for r in records], color=c, lw=1)
        by_step = {r["step"]: r for r in records}
        spikes = loss_spikes(records)
        spiked += spikes
        ax_loss.plot(spikes, [by_step[t]["train_loss"] for t in spikes], "v", color="red", ms=6)
        grokked = first_step(records, "val_acc", 0.99)
        if grokked is not None and len(curves) <= 4:
            for ax in axes:
                ax.axvline(grokked, color=c, ls=":", lw=1)
    ax_loss.set(yscale="log", title="loss (dashed: train, solid: val; ▼ train-loss spike)")
    ax_acc.set(ylim=(-0.02, 1.02), title="accuracy (dashed: train, solid: val; dotted: 99% val)")
    ax_norm.set(title="weight norm (L2, all parameters)")
    if has_gini:
        axes[3].set(title="embedding Fourier sparsity (Gini)")
    for ax in axes:
        ax.set_xscale("symlog", linthresh=first, linscale=0.25)  # step 0 stays on a log axis
        ax.set_xlim(left=0)
        ax.set_xlabel("step (log)")
    if 0 < len(curves) <= 12:
        ax_acc.legend(fontsize=7, loc="lower right")
    lines = [title] if title else []
    extra = [note] if note else []
    if spiked:
        shown = ", ".join(map(str, sorted(spiked)[:10])) + (" …" if len(spiked) > 10 else "")
        extra.append(f"{len(spiked)} train-loss spike(s) (> {SPIKE_FACTOR:g}× running minimum) at {shown}")
    if lines or extra:
        fig.suptitle("\n".join([*lines, "; ".join(extra)] if extra else lines), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
