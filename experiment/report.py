"""The experiment's result as people read it: a markdown table, the thresholds note and a PNG.

Accuracies are exact match on the held-out inputs (`PointResult.tests` says how each set was
drawn). A set that is the whole domain is reported as a share; a sample also gets its 95% upper
bound on the error rate (Clopper-Pearson), so a sampled 100% is never written as if it were proved.
The composed side's verdict is `circ verify`'s, which covers the whole domain when it says
`certified`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from circ.experiment.points import SERIES
from circ.experiment.results import ExperimentResult, Monolith, PointResult
from circ.verify.statistics import upper_bound

HEADLINE = "held-out"
THRESHOLDS = (0.9, 0.5)


def _pct(x: float) -> str:
    """One decimal, more where that would round a small bound to 0 or a near-miss to 100%."""
    if 0 < x < 0.001:
        return f"{100 * x:.2g}%"
    return f"{100 * x:.1f}%" if x < 0.9995 or x == 1.0 else f"{100 * x:.2f}%"


def sampled(point: PointResult, test: str = HEADLINE) -> bool:
    return "sample" in point.tests.get(test, "")


def composed_cell(point: PointResult) -> str:
    right, rows = point.composed.right[HEADLINE]
    text = f"{right:,}/{rows:,}"
    if sampled(point):
        text += f" (err ≤ {_pct(upper_bound(rows - right, rows))} at 95%)"
    whole = point.composed.right.get("whole domain")
    if whole is not None:
        text += f"; whole domain {whole[0]:,}/{whole[1]:,}"
    return text


def monolith_cell(m: Monolith) -> str:
    lo, hi = m.spread(HEADLINE)
    return f"{_pct(m.mean(HEADLINE))} [{_pct(lo)}–{_pct(hi)}]"


def table(result: ExperimentResult) -> str:
    """One row per point: the composed program's score and verdict, each budget's monolith."""
    factors = [m.factor for m in result.points[0].monoliths] if result.points else []
    head = ["series", "axis", "x", "composed (right/rows)", "verdict", "circuits' params"]
    head += ["circuits' recipes: step cap / examples", "composed run / verify s"]
    for f in factors:
        head += [f"monolith ×{f}: params", f"×{f}: acc mean [min–max]", f"×{f}: steps", f"×{f}: train s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in result.points:
        c = p.composed
        row = [SERIES[p.series], p.axis, str(p.x), composed_cell(p), c.verdict, f"{c.stored:,}"]
        known = c.recipe_steps is not None and c.recipe_examples is not None
        row.append(f"≤ {c.recipe_steps:,} / ≤ {c.recipe_examples:,}" if known else "?")
        row.append(f"{c.run_s:.1f} / {c.verify_s:.1f}")
        for m in p.monoliths:
            steps = "/".join(str(s) for s in m.steps)
            row += [f"{m.params:,}", monolith_cell(m), steps, f"{m.train_s:.0f}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def compact_table(result: ExperimentResult) -> str:
    """The headline only (for the README): held-out accuracy of both systems, and the verdict."""
    factors = [m.factor for m in result.points[0].monoliths] if result.points else []
    head = [
        "series",
        "x",
        "composed",
        "verdict",
        *(f"monolith ×{f} (seeds' mean [min–max])" for f in factors),
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in result.points:
        right, rows = p.composed.right[HEADLINE]
        share = _pct(p.composed.accuracy(HEADLINE))
        bound = f"err ≤ {_pct(upper_bound(rows - right, rows))} at 95%"
        scored = (
            f"{rows - right:,} wrong of {rows:,} sampled ({bound})"
            if sampled(p)
            else f"{share} of all {rows:,} held-out"
        )
        row = [SERIES[p.series], f"{p.axis} {p.x}", scored, p.composed.verdict]
        row += [monolith_cell(m) for m in p.monoliths]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def distribution_table(result: ExperimentResult) -> str:
    """Grid points on each named low-entropy distribution: composed, and each budget's seed mean."""
    grid = [p for p in result.points if p.distributions()]
    if not grid:
        return ""
    names = grid[0].distributions()
    factors = [m.factor for m in grid[0].monoliths]
    head = ["depth", "system", *names]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in grid:
        lines.append(
            "| " + " | ".join([str(p.x), "composed", *(_pct(p.composed.accuracy(n)) for n in names)]) + " |"
        )
        for f, m in zip(factors, p.monoliths, strict=True):
            cells = [_pct(m.mean(n)) for n in names]
            lines.append("| " + " | ".join([str(p.x), f"monolith ×{f}", *cells]) + " |")
    return "\n".join(lines)


@dataclass(frozen=True)
class Crossing:
    series: str
    factor: int
    threshold: float
    x: int | None  # the first measured x whose seed-mean accuracy is below the threshold; None: never
    measured: tuple[int, ...]


def crossings(result: ExperimentResult) -> list[Crossing]:
    found = []
    for series in dict.fromkeys(p.series for p in result.points):
        pts = sorted((p for p in result.points if p.series == series), key=lambda p: p.x)
        for i, m0 in enumerate(pts[0].monoliths):
            for t in THRESHOLDS:
                below = next((p.x for p in pts if p.monoliths[i].mean(HEADLINE) < t), None)
                found.append(Crossing(series, m0.factor, t, below, tuple(p.x for p in pts)))
    return found


def composed_summary(result: ExperimentResult) -> str:
    pts = result.points
    perfect = all(p.composed.right[HEADLINE][0] == p.composed.right[HEADLINE][1] for p in pts)
    verdicts = sorted({p.composed.verdict for p in pts})
    scored = "every held-out input right" if perfect else "NOT every held-out input right"
    return f"composed: {scored} at all {len(pts)} points; `circ verify` verdicts: {', '.join(verdicts)}"


def thresholds_note(result: ExperimentResult) -> str:
    """Where the monolith (seed mean, held-out) first falls below 90% and 50% — or that it did not."""
    lines = [composed_summary(result) + "."]
    for series in dict.fromkeys(c.series for c in crossings(result)):
        parts = []
        for c in (c for c in crossings(result) if c.series == series):
            axis = "depth" if series in ("mod", "grid") else "length"
            where = (
                f"first below {_pct(c.threshold)} at {axis} {c.x}"
                if c.x is not None
                else f"never below {_pct(c.threshold)} (measured {axis} {', '.join(map(str, c.measured))})"
            )
            parts.append(f"×{c.factor} {where}")
        lines.append(f"- {SERIES[series]}: monolith " + "; ".join(parts) + ".")
    return "\n".join(lines)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot(result: ExperimentResult, path: Path) -> None:
    """Accuracy vs depth (Mod, grid) and vs length (folds): composed and each budget's seed mean
    with the seeds' min–max as error bars."""
    plt = _pyplot()
    panels = [("depth", ("mod", "grid")), ("length", tuple(s for s in ("max", "sum")))]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.6))
    markers = {"mod": "o", "grid": "s", "max": "^", "sum": "v"}
    for ax, (axis, series) in zip(axes, panels, strict=True):
        for s in series:
            pts = sorted((p for p in result.points if p.series == s), key=lambda p: p.x)
            if not pts:
                continue
            xs = [p.x for p in pts]
            ax.plot(
                xs,
                [p.composed.accuracy(HEADLINE) for p in pts],
                marker=markers[s],
                color="black",
                label=f"{SERIES[s]}: composed",
            )
            for i, m0 in enumerate(pts[0].monoliths):
                means = [p.monoliths[i].mean(HEADLINE) for p in pts]
                lo = [mean - p.monoliths[i].spread(HEADLINE)[0] for mean, p in zip(means, pts, strict=True)]
                hi = [p.monoliths[i].spread(HEADLINE)[1] - mean for mean, p in zip(means, pts, strict=True)]
                ax.errorbar(
                    xs,
                    means,
                    yerr=[lo, hi],
                    marker=markers[s],
                    linestyle="--" if m0.factor == 1 else ":",
                    capsize=3,
                    label=f"{SERIES[s]}: monolith ×{m0.factor}",
                )
        for t in THRESHOLDS:
            ax.axhline(t, color="grey", linewidth=0.6)
        if axis == "length" and result.points:
            n = result.config["train_length"]
            ax.axvline(n, color="grey", linestyle="-.", linewidth=0.8)
            ax.annotate(f"trained at n = {n}", (n, 0.02), fontsize=8)
        measured = sorted({p.x for p in result.points if p.series in series})
        ax.set(xlabel=axis, ylabel="exact-match accuracy (held-out)", ylim=(-0.03, 1.03), xticks=measured)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    when = result.started[:10]
    fig.suptitle(
        f"composed verified circuits vs one transformer ({result.config['name']} settings, {when}, "
        f"{result.machine.get('cpu')})",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(result: ExperimentResult, png: str | None = None) -> str:
    """The whole section: settings, machine, table, distributions, thresholds note."""
    cfg = result.config
    m = result.machine
    lines = [
        f"Settings `{cfg['name']}`: seeds {cfg['seeds']}, budgets ×{cfg['budget_factors']}; started "
        f"{result.started} UTC, {result.wall_s / 60:.1f} min wall on {m.get('cpu')} "
        f"({m.get('cores')} cores, torch {m.get('torch')}, {m.get('torch_threads')} thread(s), "
        f"GPU {m.get('gpu') or 'none'}; load average {m.get('load_average_start')} at the start).",
        "",
        table(result),
        "",
    ]
    dist = distribution_table(result)
    if dist:
        lines += ["Grid chains on the named ARC-like distributions (seed means):", "", dist, ""]
    lines += [thresholds_note(result), ""]
    if png:
        lines += [f"![accuracy vs depth and length]({png})", ""]
    return "\n".join(lines)


def steps_and_data(points: Sequence[PointResult]) -> str:
    """What the circuits' own recipes had, beside what the monoliths got (for the note)."""
    rows = []
    for p in points:
        m = p.monoliths[0]
        rows.append(
            f"{p.series} {p.x}: circuits ≤ {p.composed.recipe_steps} steps on ≤ {p.composed.recipe_examples} "
            f"examples each; monolith ≤ {max(m.steps)} steps on {m.train_examples:,}"
        )
    return "\n".join(rows)


def write_report(result: ExperimentResult, out_dir: Path) -> dict[str, Path]:
    """`result.json` (reloadable with `ExperimentResult.from_json`), `depth.png` and `depth.md`
    under `out_dir`, each written atomically."""
    import json

    from circ.learn.model import write_atomic

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"result": out_dir / "result.json", "plot": out_dir / "depth.png", "table": out_dir / "depth.md"}
    write_atomic(paths["result"], json.dumps(result.to_json(), indent=1).encode())
    tmp = out_dir / f".depth.{os.getpid()}.png"
    plot(result, tmp)
    os.replace(tmp, paths["plot"])
    write_atomic(paths["table"], markdown(result, paths["plot"].name).encode())
    return paths
