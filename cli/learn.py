"""`circ data list|sample` and `circ train`: thin typer commands over `circ.learn`, rendered with rich.

Errors a user can cause (an unknown task, a bad option) print one line, `error: <field>: <message>`,
and exit 1 (`edge.user_errors`). Importing circ.learn.train pulls in torch: only inside the commands.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from circ.cli.edge import user_errors
from circ.cli.train_progress import training_progress
from circ.lang.errors import ConfigError
from circ.settings import check_device

console = Console(soft_wrap=True)  # samples and errors never wrap mid-value

data_app = typer.Typer(help="Algorithmic task data: list tasks, print examples.", no_args_is_help=True)

ParamOpt = Annotated[list[str] | None, typer.Option("--param", "-P", help="Task parameter KEY=INT.")]
POpt = Annotated[int | None, typer.Option("--p", help="Modulus of Mod[p] tasks.")]
LenOpt = Annotated[int | None, typer.Option("--len", help="Length n of Seq[Color, n] tasks.")]
HOpt = Annotated[int | None, typer.Option("--h", help="Grid height.")]
WOpt = Annotated[int | None, typer.Option("--w", help="Grid width.")]


def _params(
    p: int | None, n: int | None, h: int | None, w: int | None, extra: list[str] | None
) -> dict[str, int]:
    params = {k: v for k, v in (("p", p), ("n", n), ("h", h), ("w", w)) if v is not None}
    for item in extra or []:
        key, eq, value = item.partition("=")
        if not eq or not key or not value.lstrip("-").isdigit():
            raise ConfigError("param", f"expected KEY=INT, got {item!r}")
        params[key.strip()] = int(value)
    return params


@data_app.command("list")
def data_list(group: Annotated[str | None, typer.Option(help="Only this family group.")] = None) -> None:
    """Every task family with its default signature and domain size."""
    from circ.learn.data import families

    table = Table(title="circ tasks", header_style="bold")
    for col in ("task", "group", "signature (defaults)", "domain", "parameters", "computes"):
        table.add_column(col, justify="right" if col == "domain" else "left")
    shown = [f for f in families() if group is None or f.group == group]
    for fam in shown:
        task = fam.build()
        params = ", ".join(f"{k}={v}" for k, v in fam.defaults) or "—"
        table.add_row(fam.name, fam.group, task.signature, f"{task.domain_size:,}", params, fam.doc)
    console.print(table)
    console.print(f"{len(shown)} task families; compose unary ones as `compose(f,g,…)` (f applied last).")


@data_app.command("sample")
def data_sample(
    task: Annotated[str, typer.Argument(help="Task name, e.g. mod_add or compose(f,g).")],
    count: Annotated[int, typer.Option("--count", "-n", help="How many examples.")] = 5,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    p: POpt = None,
    length: LenOpt = None,
    h: HOpt = None,
    w: WOpt = None,
    param: ParamOpt = None,
) -> None:
    """Print random examples of a task in circ syntax."""
    from circ.learn.data import get_task
    from circ.learn.data.syntax import sample_lines

    with user_errors():
        if count < 1:
            raise ConfigError("count", f"must be >= 1, got {count}")
        t = get_task(task, **_params(p, length, h, w, param))
        console.print(f"# {t.key}: {t.signature}", style="dim", highlight=False, markup=False)
        for line in sample_lines(t, count, seed):
            console.print(line, highlight=False, markup=False)


def train_command(
    tasks: Annotated[list[str], typer.Argument(help="Task names (each trained with every seed).")],
    p: POpt = None,
    length: LenOpt = None,
    h: HOpt = None,
    w: WOpt = None,
    param: ParamOpt = None,
    frac: Annotated[float, typer.Option(help="Train fraction of the domain.")] = 0.5,
    seeds: Annotated[int, typer.Option(help="Number of seeds per task (0…N-1).")] = 1,
    seed0: Annotated[int, typer.Option("--seed", help="First seed.")] = 0,
    steps: Annotated[int, typer.Option(help="Maximum optimiser steps.")] = 5000,
    lr: Annotated[float | None, typer.Option(help="AdamW learning rate [default: 1e-2, CPU recipe].")] = None,
    wd: Annotated[float, typer.Option("--wd", help="AdamW weight decay.")] = 1.0,
    batch_size: Annotated[int | None, typer.Option(help="Minibatch size (default: full batch).")] = None,
    d_model: Annotated[int, typer.Option(help="Residual width (64: the measured CPU recipe).")] = 64,
    heads: Annotated[int, typer.Option(help="Attention heads.")] = 4,
    d_mlp: Annotated[int | None, typer.Option(help="MLP width (default 4·d_model).")] = None,
    layers: Annotated[int, typer.Option(help="Transformer blocks.")] = 1,
    layernorm: Annotated[bool, typer.Option(help="LayerNorm before each sublayer.")] = False,
    encoder: Annotated[bool, typer.Option(help="Full attention instead of causal.")] = False,
    target_acc: Annotated[float, typer.Option(help="Stop a model at this val accuracy (0: never).")] = 0.99,
    stop_after_cleanup: Annotated[
        bool, typer.Option(help="Mod[p] tasks: after --target-acc, train on until clean-up is over.")
    ] = False,
    cleanup_window: Annotated[
        int, typer.Option(help="Steps over which the embedding's Fourier sparsity must settle.")
    ] = 300,
    snapshots: Annotated[
        int, typer.Option(help="Keep ~N log-spaced weight snapshots per run (for `circ analyse`).")
    ] = 0,
    eval_every: Annotated[int, typer.Option(help="Steps between evaluations.")] = 10,
    ckpt_every: Annotated[int, typer.Option(help="Steps between checkpoints.")] = 500,
    n_samples: Annotated[int | None, typer.Option(help="Sample pool size for huge domains.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default runs/<task>-<time>).")] = None,
    resume: Annotated[bool, typer.Option(help="Continue from checkpoints in --out.")] = False,
    ray: Annotated[bool, typer.Option("--ray", help="Spread groups over Ray (see --ray-address).")] = False,
    ray_address: Annotated[str, typer.Option(help="local (start one), auto, or host:port.")] = "local",
    gpus_per_group: Annotated[float, typer.Option(help="GPUs per Ray task (fractions share).")] = 0.0,
    device: Annotated[str, typer.Option(help="Device for in-process training.")] = "cpu",
    threads: Annotated[
        int, typer.Option(help="torch CPU threads (1: measured 6x faster than 2 on a busy 2-core CPU).")
    ] = 1,
    register: Annotated[
        str | None,
        typer.Option(help="Certify the best model and register it in the catalog under this name."),
    ] = None,
    db: Annotated[str | None, typer.Option(help="Catalog for --register (default: $CIRC_DB).")] = None,
) -> None:
    """Train circuits on tasks: same-shape runs train together as a vmap ensemble."""
    import torch

    from circ.learn.run import CPU_RECIPE_LR, OptimConfig, make_runs
    from circ.learn.train import group_runs, log_steps, train

    with user_errors():
        if threads < 1:
            raise ConfigError("threads", f"must be >= 1, got {threads}")
        if d_mlp is not None and d_mlp < 1:
            raise ConfigError("d_mlp", f"must be >= 1, got {d_mlp}")
        if out is not None and out.exists() and not out.is_dir():
            raise ConfigError("out", f"{out} exists and is not a folder")
        device = check_device(device, "device")
        if snapshots < 0 or (snapshots and ray):
            raise ConfigError("snapshots", "must be >= 0, and is kept in process only (not with --ray)")
        if seeds < 1:
            raise ConfigError("seeds", f"must be >= 1, got {seeds}")
        if resume and out is None:
            raise ConfigError("resume", "give --out, the folder whose checkpoints to continue")
        torch.set_num_threads(threads)
        model = {
            "d_model": d_model,
            "n_heads": heads,
            "d_mlp": 4 * d_model if d_mlp is None else d_mlp,
            "n_layers": layers,
            "layernorm": layernorm,
            "causal": not encoder,
        }
        optim = OptimConfig(lr=CPU_RECIPE_LR if lr is None else lr, weight_decay=wd, batch_size=batch_size)
        runs = make_runs(
            tasks,
            range(seed0, seed0 + seeds),
            params=_params(p, length, h, w, param),
            model=model,
            optim=optim,
            steps=steps,
            frac=frac,
            target_acc=target_acc or None,
            eval_every=eval_every,
            n_samples=n_samples,
            cleanup_window=cleanup_window if stop_after_cleanup else None,
        )
        out = out or Path("runs") / f"{runs[0].name.rsplit('-s', 1)[0]}-{time.strftime('%Y%m%d-%H%M%S')}"
        _writable(out)  # before training, not after: a run is never lost to a bad --out
        n_groups = len(group_runs(runs))
        where = f"Ray ({ray_address})" if ray else device
        console.print(f"training {len(runs)} run(s) in {n_groups} vmap group(s) on {where} → {out}")
        start = time.perf_counter()
        with training_progress(console) as on_eval:
            results = train(
                runs,
                out_dir=out,
                resume=resume,
                device=device,
                ckpt_every=ckpt_every,
                on_eval=on_eval,
                ray=ray_address if ray else None,
                gpus_per_group=gpus_per_group,
                snapshot_steps=log_steps(steps, snapshots, eval_every),
            )
        wall = time.perf_counter() - start
    table = Table(title=f"results ({wall:.1f} s)", header_style="bold")
    for col in ("run", "steps", "train acc", "val acc", "val loss", "stopped early"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for r in results:
        f = r.final
        table.add_row(
            r.run.name,
            str(r.steps),
            f"{f['train_acc']:.4f}",
            f"{f['val_acc']:.4f}",
            f"{f['val_loss']:.4f}",
            "yes" if r.stopped_early else "no",
        )
    console.print(table)
    console.print(
        f"curves: {out / 'curves.json'}, plot: {out / 'curves.png'}, weights: {out}/<run>/model.safetensors"
    )
    diverged = [r.run.name for r in results if not math.isfinite(r.final["train_loss"])]
    if diverged:
        console.print(f"[bold red]error:[/] diverged (non-finite loss): {', '.join(diverged)}; lower --lr")
        raise typer.Exit(1)
    if register is not None:
        _register(out, results, register, db)


def _register(out: Path, results: list, name: str, db: str | None) -> None:
    """`--register`: the run with the best final validation accuracy, certified, then catalogued."""
    from circ.cli.catalog import show_registered
    from circ.register import certify_and_register, read_trained
    from circ.settings import Settings

    best = max(results, key=lambda r: r.final["val_acc"])  # the first of equals: runs are in seed order
    if len(results) > 1:
        console.print(f"registering {best.run.name}, the best of {len(results)} by validation accuracy")
    with user_errors(), Settings.from_env(db=db).open_catalog() as catalog:
        registered = certify_and_register(
            catalog, read_trained(out / best.run.name / "model.safetensors"), name
        )
    show_registered(console, registered)


def _writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".circ-write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise ConfigError("out", f"cannot write to {out} ({exc.strerror})") from None
