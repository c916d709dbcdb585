"""The analysis' PNGs (matplotlib, Agg): spectra, neuron clusters, progress along training with its
phases shaded on a log-step axis, attention patterns and per-position attribution."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from circ.learn.analyse.attribution import Attribution
from circ.learn.analyse.cleanup import GINI
from circ.learn.analyse.mechanism import FourierAnalysis
from circ.learn.analyse.neurons import SINGLE_SHARE
from circ.learn.analyse.trajectory import Phases, Point
from circ.learn.curves import Record

PHASE_COLOURS = {"memorisation": "#f4cccc", "circuit formation": "#fff2cc", "clean-up": "#d9ead3"}


def _pyplot() -> Any:  # matplotlib.pyplot, imported on first use
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _wrap(text: str, width: int = 120) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def plot_spectrum(a: FourierAnalysis, path: Path, title: str) -> None:
    """Share of the embedding's (and unembedding's) energy per frequency, each basis; key ones red."""
    plt = _pyplot()
    panels = [("embedding", name, s) for name, s in a.embed.items()]
    if a.basis.name in a.unembed:
        panels.append(("unembedding", a.basis.name, a.unembed[a.basis.name]))
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 2.6 * len(panels)), squeeze=False)
    for ax, (what, name, s) in zip(axes[:, 0], panels, strict=True):
        k = np.arange(1, s.shares.size + 1)
        keys = set(a.key_frequencies) if name == a.basis.name else set()
        colours = ["tab:red" if f in keys else "tab:gray" for f in k]
        ax.bar(k, s.shares, color=colours, width=0.8)
        for f in sorted(keys):
            ax.annotate(str(f), (f, s.shares[f - 1]), ha="center", va="bottom", fontsize=8, color="tab:red")
        desc = s.basis.describe()
        ax.set(
            xlim=(0.3, s.shares.size + 0.7),
            ylabel="energy share",
            title=f"{what}, {desc}: {s.frequencies_for(0.9)} of {s.shares.size} frequencies carry 90%",
        )
        ax.title.set_fontsize(9)
    axes[-1, 0].set_xlabel("frequency k (red: key frequencies)")
    fig.suptitle(_wrap(f"{title}\n{a.headline()}"), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_neurons(a: FourierAnalysis, path: Path, title: str) -> None:
    """Each neuron's best single-frequency share, and the single-frequency clusters' sizes."""
    assert a.neurons is not None
    plt = _pyplot()
    nc = a.neurons
    fig, (ax_hist, ax_bar) = plt.subplots(1, 2, figsize=(12, 3.8))
    ax_hist.hist(nc.best_share[~nc.dead], bins=40, range=(0, 1), color="tab:blue")
    ax_hist.axvline(SINGLE_SHARE, color="k", ls="--", lw=1)
    single = f"{nc.single().mean():.0%} of {nc.shares.shape[0]} neurons single-frequency"
    ax_hist.set(
        xlabel="share of the neuron's variance in its best frequency",
        ylabel="neurons",
        title=f"{single} (share ≥ {SINGLE_SHARE})",
    )
    counts = nc.counts()
    freqs = list(counts)
    ax_bar.bar(
        range(len(freqs)),
        [counts[f] for f in freqs],
        color=["tab:red" if f in a.key_frequencies else "tab:gray" for f in freqs],
    )
    ax_bar.set_xticks(range(len(freqs)), [str(f) for f in freqs], fontsize=8)
    ax_bar.set(xlabel=f"frequency ({a.basis.describe()}; red: key)", ylabel="single-frequency neurons")
    ax_bar.set_title("neuron frequency clusters")
    for ax in (ax_hist, ax_bar):
        ax.title.set_fontsize(9)
    fig.suptitle(_wrap(title), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _shade(ax: Any, phases: Phases, label: bool) -> None:
    for i, (name, start, end) in enumerate(phases.spans()):
        ax.axvspan(max(start, 0.5), max(end, 0.6), color=PHASE_COLOURS[name], alpha=0.6, lw=0)
        if label:  # staggered: a short phase's label would run into its neighbour's
            mid = np.sqrt(max(start, 0.5) * max(end, 0.6))
            y = 0.98 - 0.07 * (i % 2)
            ax.text(mid, y, name, transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=8)


def plot_progress(
    curves: Sequence[Record], points: Sequence[Point], phases: Phases, path: Path, title: str, chance: float
) -> None:
    """Loss with restricted/excluded loss, accuracy, and sparsity/weight norm on one log-step axis."""
    plt = _pyplot()
    fig, (ax_loss, ax_acc, ax_sparse) = plt.subplots(1, 3, figsize=(17, 4.6))
    steps = [max(r["step"], 1) for r in curves]
    for ax in (ax_loss, ax_acc, ax_sparse):
        _shade(ax, phases, label=True)
    ax_loss.plot(steps, [r["train_loss"] for r in curves], color="tab:blue", lw=1, label="train")
    ax_loss.plot(steps, [r["val_loss"] for r in curves], color="tab:orange", lw=1, label="val")
    snap = [max(p.step, 1) for p in points]
    if any(p.restricted_loss is not None for p in points):
        ax_loss.plot(
            snap, [p.restricted_loss for p in points], "o-", color="tab:green", ms=3, label="restricted"
        )
        ax_loss.plot(
            snap, [p.excluded_loss for p in points], "s-", color="tab:red", ms=3, label="excluded (train)"
        )
    ax_loss.axhline(chance, color="k", ls=":", lw=1, label="chance")
    ax_loss.set(yscale="log", title="loss; restricted / excluded at each snapshot")
    ax_loss.legend(fontsize=7, loc="lower left")
    ax_acc.plot(steps, [r["train_acc"] for r in curves], color="tab:blue", lw=1, label="train")
    ax_acc.plot(steps, [r["val_acc"] for r in curves], color="tab:orange", lw=1, label="val")
    ax_acc.set(ylim=(-0.02, 1.02), title="accuracy")
    ax_acc.legend(fontsize=7, loc="center left")
    if curves and GINI in curves[0]:
        ax_sparse.plot(
            steps, [r[GINI] for r in curves], color="tab:purple", lw=1, label="Fourier Gini (curves)"
        )
    if points:
        ax_sparse.plot(
            snap, [p.gini for p in points], "o", color="tab:purple", ms=3, label="Gini (analysis basis)"
        )
    ax_sparse.set(ylim=(0, 1), title="embedding sparsity (Gini) and weight norm")
    ax_norm = ax_sparse.twinx()
    ax_norm.plot(steps, [r["weight_norm"] for r in curves], color="tab:gray", lw=1, label="weight norm")
    ax_norm.set_ylabel("weight norm")
    ax_sparse.legend(fontsize=7, loc="center left")
    for ax in (ax_loss, ax_acc, ax_sparse):
        ax.set_xscale("log")
        ax.set_xlabel("step (log)")
        ax.title.set_fontsize(9)
    fig.suptitle(_wrap(title), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_attention(patterns: torch.Tensor, path: Path, title: str, labels: Sequence[str]) -> None:
    """One heatmap per layer and head: query position (rows) → key position (columns)."""
    plt = _pyplot()
    n_layers, n_heads, pos, _ = patterns.shape
    fig, axes = plt.subplots(n_layers, n_heads, figsize=(2.8 * n_heads, 2.8 * n_layers), squeeze=False)
    for layer in range(n_layers):
        for head in range(n_heads):
            ax = axes[layer, head]
            ax.imshow(patterns[layer, head].numpy(), vmin=0, vmax=1, cmap="Blues")
            ax.set_title(f"blocks.{layer} head {head}", fontsize=8)
            if pos <= 12:
                ax.set_xticks(range(pos), labels, fontsize=6)
                ax.set_yticks(range(pos), labels, fontsize=6)
            else:
                ax.set_xticks([])
                ax.set_yticks([])
    text = f"{title}: mean attention, query (rows) → key (columns)"
    fig.suptitle(_wrap(text, width=max(40, 16 * n_heads)), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_attribution(attr: Attribution, path: Path, title: str) -> None:
    """The model's and the reference's output × input dependence side by side."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    for ax, m, name in ((axes[0], attr.model, "circuit"), (axes[1], attr.reference, "reference function")):
        im = ax.imshow(m, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set(xlabel="input position (redrawn)", ylabel="output position", title=name)
    fig.colorbar(im, ax=axes, shrink=0.8, label="share of rows whose output changed")
    agree = f"{sum(attr.agrees())} of {len(attr.agrees())}"
    fig.suptitle(
        _wrap(f"{title}: for {agree} outputs the most influential input is the reference's"), fontsize=9
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
