"""Faithfulness curves over circuit size, measured, with MIB's areas (Mueller et al. 2025).

A method orders a circuit's units (heads and neurons for pruning; transcoder features for a graph),
most important first. The circuit of size k keeps the first k and ablates the rest — set to zero, or
to their mean over the domain (mean ablation, the expectation of resampling) — and its faithfulness is

    f(k) = (m(C_k) − m(∅)) / (m(M) − m(∅))

for a metric m: here the logit difference between the right answer and the strongest wrong one,
averaged over inputs and output positions (for a graph: the answer the model gives on its one input).
CPR is the area under f over the fraction of units kept (higher is better), CMD the area between f
and 1 (0 is best), both by the trapezoid rule over `FRACTIONS`. The accuracy of each C_k is kept
beside it: a pruned circuit sits on its own curve at 100% (exactly so when it has one layer: pruning
zeroes the removed heads of earlier layers, which have no bias to fold a mean into).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from circ.learn.extract.attribution import FEATURE, Attribution
from circ.learn.extract.domain import BATCH, Domain, margins
from circ.learn.extract.replacement import replaced
from circ.learn.extract.transcoder import Transcoders
from circ.learn.extract.units import Means
from circ.learn.model import CircuitTransformer

FRACTIONS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
Unit = tuple[str, int, int]  # ("head" | "neuron", layer, index)


@dataclass(frozen=True)
class Curve:
    ablation: str
    fractions: list[float]
    faithfulness: list[float]
    accuracy: list[float]
    metric: list[float]  # m(C_k) at each fraction
    full: float  # m(M)
    empty: float  # m(∅)
    rows: int  # inputs the metric averages over
    sampled: bool

    @property
    def cpr(self) -> float:
        return _trapezoid(self.fractions, self.faithfulness)

    @property
    def cmd(self) -> float:
        return _trapezoid(self.fractions, [abs(1 - f) for f in self.faithfulness])

    def to_dict(self) -> dict[str, object]:
        return {
            "ablation": self.ablation,
            "fractions": self.fractions,
            "faithfulness": [round(f, 5) for f in self.faithfulness],
            "accuracy": [round(a, 6) for a in self.accuracy],
            "cpr": round(self.cpr, 5),
            "cmd": round(self.cmd, 5),
            "rows": self.rows,
            "sampled": self.sampled,
        }


def _trapezoid(xs: list[float], ys: list[float]) -> float:
    return float(
        sum((x1 - x0) * (y0 + y1) / 2 for x0, x1, y0, y1 in zip(xs, xs[1:], ys, ys[1:], strict=False))
    )


def _fractions(extra: float | None) -> list[float]:
    return sorted(set(FRACTIONS) | ({round(extra, 6)} if extra is not None else set()))


def _curve(ablation, fractions, values, accuracies, rows, sampled) -> Curve:
    full, empty = values[-1], values[0]
    span = full - empty
    faith = [(v - empty) / span if span != 0 else 1.0 for v in values]
    return Curve(ablation, fractions, faith, accuracies, values, full, empty, rows, sampled)


@contextmanager
def ablated_units(model: CircuitTransformer, dead: list[Unit], means: Means | None) -> Iterator[None]:
    """Heads and neurons in `dead` write zero (means None) or their mean activation."""
    cfg = model.cfg
    heads = {(layer, i) for kind, layer, i in dead if kind == "head"}
    neurons: dict[int, list[int]] = {}
    for kind, layer, i in dead:
        if kind == "neuron":
            neurons.setdefault(layer, []).append(i)
    handles = []
    for layer, block in enumerate(model.blocks):
        layer_heads = [h for h in range(cfg.n_heads) if (layer, h) in heads]
        if layer_heads:

            def on_z(_module, args, layer=layer, layer_heads=layer_heads):
                z = args[0].reshape(*args[0].shape[:2], cfg.n_heads, cfg.d_head).clone()
                for h in layer_heads:
                    z[:, :, h] = means.heads[layer, h] if means is not None else 0.0
                return (z.reshape(args[0].shape),)

            handles.append(block.attn.o.register_forward_pre_hook(on_z))
        if layer in neurons:
            index = torch.tensor(neurons[layer])

            def on_post(_module, _args, out, layer=layer, index=index):
                out = out.clone()
                out[..., index] = means.neurons[layer, index] if means is not None else 0.0
                return out

            handles.append(block.mlp.hook_post.register_forward_hook(on_post))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@torch.no_grad()
def _measure(model: CircuitTransformer, domain: Domain) -> tuple[float, float]:
    """(mean margin over inputs and output positions, accuracy)."""
    total, right = 0.0, 0
    for start in range(0, domain.size, BATCH):
        logits = model(domain.tokens[start : start + BATCH])
        y = domain.targets[start : start + BATCH]
        total += float(margins(logits, y).mean(-1).sum())
        right += int((logits.argmax(-1) == y).all(-1).sum())
    return total / domain.size, right / domain.size


def unit_curve(
    model: CircuitTransformer,
    domain: Domain,
    order: list[Unit],
    ablation: str,
    means: Means | None,
    mark: float | None = None,
) -> Curve:
    """Faithfulness of the first k units of `order` (every head and neuron, most important first)."""
    fractions = _fractions(mark)
    values, accuracies = [], []
    for frac in fractions:
        k = round(frac * len(order))
        with ablated_units(model, order[k:], means if ablation == "mean" else None):
            value, accuracy = _measure(model, domain)
        values.append(value)
        accuracies.append(accuracy)
    return _curve(ablation, fractions, values, accuracies, domain.size, domain.sampled)


@torch.no_grad()
def feature_means(model: CircuitTransformer, tc: Transcoders, domain: Domain) -> dict[int, torch.Tensor]:
    """Each layer's mean feature activation per position over `domain`, [pos, d_sae] (last positions)."""
    from circ.learn.extract.train_transcoder import mlp_io

    sums: dict[int, torch.Tensor] = {}
    for start in range(0, domain.size, BATCH):
        xs, _ = mlp_io(model, domain.tokens[start : start + BATCH])
        for layer, x in enumerate(xs):
            acts = tc.encode(layer, x).sum(0).double()
            sums[layer] = sums[layer] + acts if layer in sums else acts
    return {layer: (s / domain.size).float() for layer, s in sums.items()}


@torch.no_grad()
def graph_curve(
    model: CircuitTransformer,
    tc: Transcoders,
    att: Attribution,
    order: list[int],
    ablation: str,
    means: dict[int, torch.Tensor] | None,
) -> Curve:
    """Faithfulness on the graph's one input of keeping its top-k features (`order`: node indices of
    feature nodes, most influential first) in the local replacement model (errors frozen)."""
    cfg = model.cfg
    tokens = torch.tensor(att.tokens)[None]
    answer = model(tokens).argmax(-1)  # [1, n_out]: the answers being explained
    fractions = _fractions(None)
    values, accuracies = [], []
    for frac in fractions:
        keep = {
            layer: torch.zeros(cfg.n_positions, tc.cfg.d_sae, dtype=torch.bool)
            for layer in range(cfg.n_layers)
        }
        for i in order[: round(frac * len(order))]:
            node = att.nodes[i]
            assert node.kind == FEATURE
            keep[node.layer][node.pos, node.index] = True
        values_at = means if ablation == "mean" else None
        with replaced(model, tc, keep=keep, values=values_at, errors=att.errors):
            logits = model(tokens)
        values.append(float(margins(logits, answer).mean()))
        accuracies.append(float((logits.argmax(-1) == answer).all()))
    return _curve(ablation, fractions, values, accuracies, 1, False)


def plot_curves(curves: dict[str, Curve], path: Path, title: str, mark: float | None = None) -> None:
    """Faithfulness (and accuracy, dashed) against the fraction of units kept, one line per curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for name, curve in curves.items():
        (line,) = ax.plot(
            curve.fractions,
            curve.faithfulness,
            marker="o",
            ms=3,
            label=f"{name} (CPR {curve.cpr:.2f}, CMD {curve.cmd:.2f})",
        )
        ax.plot(curve.fractions, curve.accuracy, ls="--", color=line.get_color(), alpha=0.6)
    if mark is not None:
        ax.axvline(mark, color="grey", ls=":", label=f"pruned circuit ({mark:.0%} of units)")
    ax.axhline(1.0, color="black", lw=0.5)
    ax.set_xlabel("fraction of units kept")
    ax.set_ylabel("faithfulness (solid) · accuracy (dashed)")
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp{path.suffix}")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
