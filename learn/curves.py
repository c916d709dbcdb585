"""Training curves: one record per evaluation, saved as JSON and drawn as a PNG.

A record is `{"step", "train_loss", "train_acc", "val_loss", "val_acc", "weight_norm"}`, measured on
the weights after `step` updates (accuracy = whole output decoded right).
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


def plot_curves(path: Path, curves: Mapping[str, Sequence[Record]], title: str = "") -> None:
    """Loss (log scale), accuracy and weight norm against step, one line per run."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on training machines
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc, ax_norm) = plt.subplots(1, 3, figsize=(15, 4.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (name, records) in enumerate(curves.items()):
        steps = [r["step"] for r in records]
        c = colours[i % len(colours)]
        label = name if len(curves) <= 12 else None
        ax_loss.plot(steps, [r["train_loss"] for r in records], color=c, ls="--", lw=1)
        ax_loss.plot(steps, [r["val_loss"] for r in records], color=c, lw=1, label=label)
        ax_acc.plot(steps, [r["train_acc"] for r in records], color=c, ls="--", lw=1)
        ax_acc.plot(steps, [r["val_acc"] for r in records], color=c, lw=1, label=label)
        ax_norm.plot(steps, [r["weight_norm"] for r in records], color=c, lw=1, label=label)
    ax_loss.set(yscale="log", xlabel="step", title="loss (dashed: train, solid: val)")
    ax_acc.set(xlabel="step", ylim=(-0.02, 1.02), title="accuracy (dashed: train, solid: val)")
    ax_norm.set(xlabel="step", title="weight norm")
    if 0 < len(curves) <= 12:
        ax_acc.legend(fontsize=7, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
