"""`circ sweep TASK…`: a thin typer command over `circ.learn.sweep`, rendered with rich."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from circ.cli.edge import user_errors
from circ.cli.learn import POpt
from circ.lang.errors import ConfigError


def _floats(name: str, text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(name, f"expected comma-separated numbers, got {text!r}") from None


def _ints(name: str, text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(name, f"expected comma-separated integers, got {text!r}") from None


def sweep_command(
    tasks: Annotated[list[str], typer.Argument(help="Task names (each swept over the whole grid).")],
    p: POpt = None,
    frac: Annotated[str, typer.Option(help="Train fractions, comma-separated.")] = "0.5",
    wd: Annotated[str, typer.Option("--wd", help="Weight decays, comma-separated.")] = "1.0",
    d_model: Annotated[str, typer.Option(help="Widths, comma-separated (d_mlp = 4·d_model).")] = "64",
    lr: Annotated[str, typer.Option(help="Learning rates, comma-separated.")] = "0.01",
    seeds: Annotated[int, typer.Option(help="Seeds 0…N-1 at every grid point.")] = 3,
    steps: Annotated[int, typer.Option(help="Step budget per run.")] = 3000,
    eval_every: Annotated[int, typer.Option(help="Steps between evaluations.")] = 10,
    target_acc: Annotated[float, typer.Option(help="Val accuracy that counts as generalised.")] = 0.99,
    heads: Annotated[int, typer.Option(help="Attention heads.")] = 4,
    layers: Annotated[int, typer.Option(help="Transformer blocks.")] = 1,
    out: Annotated[Path | None, typer.Option(help="Output folder [default: sweeps/<tasks>-<time>].")] = None,
    ray: Annotated[bool, typer.Option("--ray", help="Spread groups over Ray (see --ray-address).")] = False,
    ray_address: Annotated[str, typer.Option(help="local (start one), auto, or host:port.")] = "local",
    threads: Annotated[int, typer.Option(help="torch CPU threads.")] = 1,
) -> None:
    """Train a grid (train fraction × weight decay × width × lr × seed) and measure steps to generalise;
    writes sweep.csv, sweep.png and sweep.json."""
    import torch
    from rich.progress import Progress

    from circ.learn.sweep import Axes, Setting, plot_sweep, run_sweep, save_sweep

    console = Console(soft_wrap=True)
    with user_errors():
        if seeds < 1 or threads < 1:
            raise ConfigError("seeds" if seeds < 1 else "threads", "must be >= 1")
        torch.set_num_threads(threads)
        axes = Axes(
            frac=_floats("frac", frac),
            weight_decay=_floats("wd", wd),
            d_model=_ints("d_model", d_model),
            lr=_floats("lr", lr),
            seed=tuple(range(seeds)),
        )
        params = (("p", p),) if p is not None else ()
        setting = Setting(tuple(tasks), params, steps, eval_every, target_acc, heads, n_layers=layers)
        out = out or Path("sweeps") / f"{'-'.join(tasks)}-{time.strftime('%Y%m%d-%H%M%S')}"
        out.mkdir(parents=True, exist_ok=True)
        n_runs = len(tasks) * len(axes.points())
        console.print(f"sweeping {n_runs} runs over {', '.join(axes.swept()) or 'seeds'} → {out}")
        with Progress(console=console) as progress:
            bar = progress.add_task("groups", total=None)
            result = run_sweep(
                setting,
                axes,
                ray=ray_address if ray else None,
                on_group=lambda done, total: progress.update(bar, completed=done, total=total),
            )
    save_sweep(out, result)
    title = (
        f"{', '.join(tasks)} {dict(params)} · {seeds} seeds · budget {steps} steps · {result.wall_s:.0f} s"
    )
    plot_sweep(out / "sweep.png", result, title)
    table = Table(title=f"sweep ({result.wall_s:.0f} s)", header_style="bold")
    for col in ("task", *axes.swept(), "reached 99% val", "median steps"):
        table.add_column(col, justify="left" if col == "task" else "right")
    keys: dict[tuple, list] = {}
    for row in result.rows:
        keys.setdefault((row.task, *(getattr(row, a) for a in axes.swept())), []).append(row)
    for key, rows in keys.items():
        hit = sorted(r.steps_to_val_99 for r in rows if r.steps_to_val_99 is not None)
        median = str(hit[len(hit) // 2]) if len(hit) * 2 > len(rows) else "—"
        table.add_row(*(str(k) for k in key), f"{len(hit)}/{len(rows)}", median)
    console.print(table)
    console.print(f"table: {out / 'sweep.csv'}, plot: {out / 'sweep.png'}")
