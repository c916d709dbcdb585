"""Draw a pruned attribution graph (PNG and SVG): positions left to right, layers bottom to top
(embeddings, then each layer's features and error, then the logits), edges blue for positive and
red for negative effects, their opacity by |weight| and node size by influence."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from circ.learn.extract.attribution import EMBEDDING, ERROR, FEATURE, LOGIT, Attribution
from circ.learn.extract.graph import Pruned


def _layout(att: Attribution, keep: list[int]) -> dict[int, tuple[float, float]]:
    rows: dict[tuple[int, int], list[int]] = {}
    for i in keep:
        node = att.nodes[i]
        level = {EMBEDDING: 0, LOGIT: att.n_layers + 1}.get(node.kind, node.layer + 1)
        rows.setdefault((level, node.pos), []).append(i)
    where = {}
    for (level, pos), members in rows.items():
        members.sort(key=lambda i: (att.nodes[i].kind != ERROR, att.nodes[i].index))
        for j, i in enumerate(members):
            spread = 0.8 * (j + 0.5) / len(members) - 0.4 if len(members) > 1 else 0.0
            where[i] = (pos + spread, float(level))
    return where


def plot_graph(att: Attribution, pruned: Pruned, paths: list[Path], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keep = [i for i in range(len(att.nodes)) if pruned.node_mask[i]]
    where = _layout(att, keep)
    n_pos = len(att.prompt_tokens)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * n_pos + 2), 1.6 * (att.n_layers + 2) + 1), dpi=120)
    targets, sources = pruned.edge_mask.nonzero(as_tuple=True)
    weights = [float(att.adjacency[t, s]) for t, s in zip(targets.tolist(), sources.tolist(), strict=True)]
    top = max((abs(w) for w in weights), default=1.0) or 1.0
    for t, s, w in zip(targets.tolist(), sources.tolist(), weights, strict=True):
        if s in where and t in where:
            (x0, y0), (x1, y1) = where[s], where[t]
            ax.plot(
                [x0, x1],
                [y0, y1],
                color="tab:blue" if w > 0 else "tab:red",
                alpha=0.15 + 0.8 * abs(w) / top,
                lw=0.5 + 2.5 * abs(w) / top,
                zorder=1,
            )
    peak = float(pruned.influence[keep].max()) if keep else 1.0
    colours = {EMBEDDING: "#bbbbbb", FEATURE: "#f4a261", ERROR: "#8d99ae", LOGIT: "#2a9d8f"}
    for i in keep:
        node = att.nodes[i]
        x, y = where[i]
        size = 40 + 260 * (float(pruned.influence[i]) / peak if peak > 0 else 0.0)
        if node.kind == LOGIT:
            size = 40 + 260 * node.activation
        ax.scatter(
            [x],
            [y],
            s=size,
            color=colours[node.kind],
            edgecolor="black",
            lw=0.5,
            zorder=2,
            marker="s" if node.kind == ERROR else "o",
        )
        if node.kind == EMBEDDING:
            text = att.prompt_tokens[node.pos]
        elif node.kind == LOGIT:
            text = f"{att.logit_labels[i - (len(att.nodes) - len(att.logit_probs))]} ({node.activation:.2f})"
        elif node.kind == ERROR:
            text = "err"
        else:
            text = f"f{node.index}"
        rotation = 90 if node.kind in (FEATURE, ERROR) else 0
        ax.annotate(
            text,
            (x, y),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
            va="bottom",
            fontsize=6,
            rotation=rotation,
        )
    ax.set_yticks(range(att.n_layers + 2), ["embed", *[f"layer {i}" for i in range(att.n_layers)], "logits"])
    ax.set_xticks(range(n_pos), [f"{p}\n{tok}" for p, tok in enumerate(att.prompt_tokens)])
    ax.set_xlim(-0.6, n_pos - 0.4)
    ax.set_ylim(-0.5, att.n_layers + 1.6)
    ax.set_title(title, fontsize=9)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    fig.tight_layout()
    for path in paths:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp{path.suffix}")
        fig.savefig(tmp)
        tmp.replace(path)
    plt.close(fig)
