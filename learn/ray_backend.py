"""Training groups on a Ray cluster: one Ray task per group, each a vmap ensemble on its device.

Ray is the optional `dist` extra. Workers import `circ` themselves (install it on every node), and
checkpoints are written by the worker, so resuming across machines needs `out_dir` on shared storage.
Progress arrives per finished group (an `EvalEvent` at its final step), not per evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from circ.lang.errors import ConfigError
from circ.learn.run import Run
from circ.learn.train import EvalEvent, OnEval, RunResult, train_group


def _train_group_task(
    run_dicts: list[dict[str, Any]], ckpt: str | None, resume: bool, ckpt_every: int, group: int
) -> list[dict[str, Any]]:
    """Runs inside a Ray worker: the group on a GPU if Ray gave this task one, else on the CPU."""
    import ray
    import torch

    device = "cuda" if torch.cuda.is_available() and ray.get_gpu_ids() else "cpu"
    results = train_group(
        [Run.from_dict(d) for d in run_dicts],
        device=device,
        ckpt_path=Path(ckpt) if ckpt else None,
        resume=resume,
        ckpt_every=ckpt_every,
        group=group,
    )
    return [
        {
            "run": r.run.to_dict(),
            "curves": r.curves,
            "state": r.state,
            "steps": r.steps,
            "stopped_early": r.stopped_early,
            "wall_s": r.wall_s,
            "eval_sizes": r.eval_sizes,
        }
        for r in results
    ]


def train_groups_ray(
    groups: Sequence[Sequence[Run]],
    ckpts: Sequence[Path | None],
    *,
    address: str,
    resume: bool = False,
    ckpt_every: int = 500,
    gpus_per_group: float = 0.0,
    cpus_per_group: float = 1.0,
    on_eval: OnEval | None = None,
) -> list[list[RunResult]]:
    """Train each group as one Ray task. `address`: "local" starts (or reuses) a local instance;
    anything else is passed to `ray.init` (e.g. "auto", "ray://head:10001"). `gpus_per_group` may be
    fractional, so several small ensembles share one GPU."""
    try:
        import ray
    except ImportError as e:
        raise ConfigError("ray", "Ray is not installed; install the extra: pip install 'circ[dist]'") from e
    if gpus_per_group < 0:
        raise ConfigError("gpus_per_group", f"must be >= 0, got {gpus_per_group}")
    if not ray.is_initialized():
        ray.init(
            address=None if address == "local" else address, include_dashboard=False, log_to_driver=False
        )
    task = ray.remote(_train_group_task).options(num_cpus=cpus_per_group, num_gpus=gpus_per_group)
    pending = {
        task.remote([r.to_dict() for r in g], str(c) if c else None, resume, ckpt_every, i): i
        for i, (g, c) in enumerate(zip(groups, ckpts, strict=True))
    }
    out: list[list[RunResult]] = [[] for _ in groups]
    waiting = list(pending)
    while waiting:
        done, waiting = ray.wait(waiting, num_returns=1)
        i = pending[done[0]]
        out[i] = [
            RunResult(
                Run.from_dict(d["run"]),
                d["curves"],
                d["state"],
                d["steps"],
                d["stopped_early"],
                d["wall_s"],
                d["eval_sizes"],
            )
            for d in ray.get(done[0])
        ]
        if on_eval is not None:
            res = out[i]
            names = tuple(r.run.name for r in res)
            on_eval(
                EvalEvent(
                    i,
                    max(r.steps for r in res),
                    groups[i][0].steps,
                    names,
                    tuple(r.final["val_acc"] for r in res),
                    tuple(r.stopped_early for r in res),
                )
            )
    return out
