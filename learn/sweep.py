"""`circ sweep`: train a grid of settings and measure how fast each one generalises.

The grid's axes are the knobs the grokking papers turn: train fraction (Power et al. 2022, Fig. 1:
steps to generalise against the fraction of the table trained on), weight decay, width, learning
rate, and seed. Every combination is one `Run`; runs that differ only in seed share a vmap ensemble
(`train.group_runs`), the groups train one after another in process or on Ray. A member stops at the
target validation accuracy, so "steps to generalise" costs only as much training as it measures.
Results are one row per run (CSV) and a plot of steps-to-generalise and final accuracy against each
axis with more than one value.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from circ.circuit.config import ModelConfig
from circ.lang.errors import ConfigError
from circ.learn.curves import first_step
from circ.learn.run import CPU_RECIPE_LR, OptimConfig, Run
from circ.learn.train import OnEval, RunResult, group_runs, train_group

AXES = ("frac", "weight_decay", "d_model", "lr", "seed")


@dataclass(frozen=True)
class Axes:
    """The values of each axis; the grid is their product."""

    frac: tuple[float, ...] = (0.5,)
    weight_decay: tuple[float, ...] = (1.0,)
    d_model: tuple[int, ...] = (64,)
    lr: tuple[float, ...] = (CPU_RECIPE_LR,)
    seed: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        for f in fields(self):
            values = getattr(self, f.name)
            if not values:
                raise ConfigError(f.name, "give at least one value")
            if len(set(values)) != len(values):
                raise ConfigError(f.name, f"repeated values in {list(values)}")

    def swept(self) -> list[str]:
        """The axes with more than one value (seed aside): the x-axes of the plot."""
        return [a for a in AXES if a != "seed" and len(getattr(self, a)) > 1]

    def points(self) -> list[dict[str, Any]]:
        return [
            dict(zip(AXES, combo, strict=True))
            for combo in itertools.product(*(getattr(self, a) for a in AXES))
        ]


@dataclass(frozen=True)
class Setting:
    """What stays fixed across the grid."""

    tasks: tuple[str, ...]
    params: tuple[tuple[str, int], ...] = ()
    steps: int = 3000
    eval_every: int = 10
    target_acc: float = 0.99
    n_heads: int = 4
    mlp_ratio: int = 4  # d_mlp = mlp_ratio · d_model
    n_layers: int = 1
    batch_size: int | None = None


@dataclass
class SweepRow:
    task: str
    frac: float
    weight_decay: float
    d_model: int
    lr: float
    seed: int
    steps_to_train_99: int | None
    steps_to_val_99: int | None  # None: not within `steps_run`
    steps_run: int
    final_train_acc: float
    final_val_acc: float
    final_val_loss: float
    group_wall_s: float

    @classmethod
    def of(cls, result: RunResult, point: dict[str, Any]) -> SweepRow:
        final = result.final
        return cls(
            task=result.run.build_task().key,
            **point,
            steps_to_train_99=first_step(result.curves, "train_acc", 0.99),
            steps_to_val_99=first_step(result.curves, "val_acc", 0.99),
            steps_run=result.steps,
            final_train_acc=final["train_acc"],
            final_val_acc=final["val_acc"],
            final_val_loss=final["val_loss"],
            group_wall_s=round(result.wall_s, 2),
        )


@dataclass
class Sweep:
    setting: Setting
    axes: Axes
    rows: list[SweepRow] = field(default_factory=list)
    wall_s: float = 0.0


def sweep_runs(setting: Setting, axes: Axes) -> tuple[list[Run], list[dict[str, Any]]]:
    """One run per (task, grid point), with the point it stands for."""
    from circ.learn.data import get_task

    runs, points = [], []
    for task in setting.tasks:
        iface = get_task(task, **dict(setting.params)).interface
        for point in axes.points():
            d = point["d_model"]
            model = ModelConfig.for_interface(
                iface,
                d_model=d,
                n_heads=setting.n_heads,
                d_mlp=setting.mlp_ratio * d,
                n_layers=setting.n_layers,
            )
            optim = OptimConfig(
                lr=point["lr"], weight_decay=point["weight_decay"], batch_size=setting.batch_size
            )
            runs.append(
                Run(
                    task=task,
                    model=model,
                    optim=optim,
                    seed=point["seed"],
                    steps=setting.steps,
                    frac=point["frac"],
                    params=setting.params,
                    target_acc=setting.target_acc,
                    eval_every=setting.eval_every,
                )
            )
            points.append(point)
    return runs, points


def run_sweep(
    setting: Setting,
    axes: Axes,
    *,
    device: str = "cpu",
    ray: str | None = None,
    on_eval: OnEval | None = None,
    on_group: Callable[[int, int], None] | None = None,
) -> Sweep:
    """Train the grid; rows come back in grid order. `on_group(done, total)` hears of each group."""
    runs, points = sweep_runs(setting, axes)
    groups = group_runs(runs)
    start = time.perf_counter()
    if ray is not None:
        from circ.learn.ray_backend import train_groups_ray

        grouped = train_groups_ray(groups, [None] * len(groups), address=ray, on_eval=on_eval)
    else:
        grouped = []
        for i, g in enumerate(groups):
            grouped.append(train_group(g, device=device, on_eval=on_eval, group=i))
            if on_group is not None:
                on_group(i + 1, len(groups))
    # runs of one sweep can share a name (the name is task + seed), so results are matched by identity
    by_run = {
        id(run): res
        for g, results in zip(groups, grouped, strict=True)
        for run, res in zip(g, results, strict=True)
    }
    rows = [SweepRow.of(by_run[id(run)], point) for run, point in zip(runs, points, strict=True)]
    return Sweep(setting, axes, rows, time.perf_counter() - start)


def write_csv(path: Path, rows: Sequence[SweepRow]) -> None:
    names = [f.name for f in fields(SweepRow)]
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=names)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in asdict(row).items()})
    tmp.replace(path)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def save_sweep(directory: Path, sweep: Sweep) -> None:
    """`sweep.csv` (one row per run) and `sweep.json` (what was held fixed, the axes, the wall time)."""
    directory.mkdir(parents=True, exist_ok=True)
    write_csv(directory / "sweep.csv", sweep.rows)
    meta = {"setting": asdict(sweep.setting), "axes": asdict(sweep.axes), "wall_s": sweep.wall_s}
    (directory / "sweep.json").write_text(json.dumps(meta, indent=1))


def load_sweep(directory: Path) -> Sweep:
    """A sweep written by `save_sweep`, e.g. to redraw its plot without training again."""
    meta = json.loads((directory / "sweep.json").read_text())
    setting = dict(meta["setting"])
    setting["tasks"] = tuple(setting["tasks"])
    setting["params"] = tuple(tuple(p) for p in setting["params"])
    axes = Axes(**{k: tuple(v) for k, v in meta["axes"].items()})
    kinds = {f.name: f.type for f in fields(SweepRow)}
    rows = []
    for raw in read_csv(directory / "sweep.csv"):
        row: dict[str, Any] = {}
        for key, text in raw.items():
            kind = kinds[key]
            if text == "":
                row[key] = None
            elif "int" in kind:
                row[key] = int(text)
            elif "float" in kind:
                row[key] = float(text)
            else:
                row[key] = text
        rows.append(SweepRow(**row))
    return Sweep(Setting(**setting), axes, rows, meta["wall_s"])


def _median(values: Sequence[float]) -> float:
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def plot_sweep(path: Path, sweep: Sweep, title: str = "") -> None:
    """Per swept axis: steps to 99% val accuracy (log; ○ at the top: not reached) and final val
    accuracy, one colour per task, a dot per seed and a line through the medians."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    swept = sweep.axes.swept() or ["seed"]
    fig, axes = plt.subplots(2, len(swept), figsize=(max(8.0, 5.5 * len(swept)), 7), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    cap = sweep.setting.steps
    for col, axis in enumerate(swept):
        ax_steps, ax_acc = axes[0, col], axes[1, col]
        for t, task in enumerate(dict.fromkeys(r.task for r in sweep.rows)):
            c = colours[t % len(colours)]
            mine = [r for r in sweep.rows if r.task == task]
            xs = sorted({getattr(r, axis) for r in mine})
            med_x, med_y = [], []
            for x in xs:
                at = [r for r in mine if getattr(r, axis) == x]
                hit = [r.steps_to_val_99 for r in at if r.steps_to_val_99 is not None]
                miss = len(at) - len(hit)
                ax_steps.plot([x] * len(hit), hit, ".", color=c, alpha=0.6)
                if miss:  # one row of ○ per task above the budget line, so tasks do not hide each other
                    top = cap * (1.15 + 0.15 * t)
                    ax_steps.plot([x], [top], "o", mfc="none", color=c)
                    ax_steps.annotate(f" {miss}", (x, top), fontsize=7, color=c, ha="left", va="center")
                if len(hit) * 2 > len(at):  # the median is a reached value
                    med_x.append(x)
                    med_y.append(_median(hit + [math.inf] * miss))
                ax_acc.plot([x] * len(at), [r.final_val_acc for r in at], ".", color=c, alpha=0.6)
            ax_steps.plot(med_x, med_y, "-", color=c, label=task)
            ax_acc.plot(
                xs,
                [_median([r.final_val_acc for r in mine if getattr(r, axis) == x]) for x in xs],
                "-",
                color=c,
            )
        ax_steps.axhline(cap, color="k", ls=":", lw=1)
        ax_steps.set(
            yscale="log",
            xlabel=axis,
            ylabel="steps to 99% val accuracy",
            title=f"steps to generalise vs {axis}",
        )
        ax_acc.set(
            xlabel=axis,
            ylabel="final val accuracy",
            ylim=(-0.02, 1.02),
            title=f"final val accuracy vs {axis}",
        )
        values = sorted(getattr(sweep.axes, axis))
        for ax in (ax_steps, ax_acc):
            if axis in ("d_model", "lr", "weight_decay") and values[0] > 0:
                ax.set_xscale("log")
                ax.tick_params(axis="x", which="minor", bottom=False, labelbottom=False)
            ax.set_xticks(values, [f"{v:g}" for v in values])
        ax_steps.legend(fontsize=7)
        for ax in (ax_steps, ax_acc):
            ax.title.set_fontsize(9)
    note = f"○ at the top: seeds not at 99% by step {cap} (count beside it); dotted: the step budget"
    fig.suptitle(f"{title}\n{note}" if title else note, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
