"""`train(runs)`: one API for one or many runs.

Runs that share a shape (model config, optimiser, steps, eval cadence, target, train/val sizes) form a
group and train together as one vmap `Ensemble`, each with its own seed and data; heterogeneous runs
make several groups, trained one after another in process or spread over a Ray cluster
(`ray_backend`). Within a group, a member that reaches `target_acc` keeps the weights it had at that
evaluation and leaves the ensemble, so the rest train with less work. A run with a
`cleanup_window` stops later, once clean-up is over (`circ.learn.analyse.cleanup`).

Loop, per group: evaluate at every `eval_every` steps (and at the end), then one AdamW step on each
member's batch; a checkpoint after every `ckpt_every` updates, and each member's weights at the
`snapshot_steps` (for progress measures along training: `circ analyse RUN`). Resuming from a
checkpoint replays the same evaluations and updates, so its curves are bit-identical to an
uninterrupted run's.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from circ.lang.errors import ConfigError
from circ.learn.analyse.cleanup import GINI, SpectrumProbe, cleanup_done
from circ.learn.checkpoint import load_checkpoint, save_checkpoint
from circ.learn.curves import Record, loss_spikes, plot_curves, save_curves
from circ.learn.data import Split, make_split
from circ.learn.ensemble import Ensemble
from circ.learn.model import build_model, save_weights
from circ.learn.run import OptimConfig, Run

# Examples of each split that curves are measured on (splits are already shuffled): every modular
# split whole; runs.json and curves.png say when a split is cut.
EVAL_SIZE = 16_384
EVAL_CHUNK = 4096  # examples per member per eval forward pass, to bound memory


@dataclass(frozen=True)
class EvalEvent:
    """Sent to `on_eval` after each evaluation of a group (for progress displays)."""

    group: int
    step: int
    steps: int
    names: tuple[str, ...]  # every run in the group
    val_acc: tuple[float, ...]  # latest val accuracy per run
    done: tuple[bool, ...]  # stopped (target reached) per run


OnEval = Callable[[EvalEvent], None]


@dataclass
class RunResult:
    run: Run
    curves: list[Record]
    state: dict[str, torch.Tensor]  # final weights, on the CPU
    steps: int  # updates done
    stopped_early: bool  # reached target_acc before `steps`
    wall_s: float  # wall time of its group
    eval_sizes: dict[str, list[int]] | None = None  # split → [examples evaluated, examples in it]

    @property
    def final(self) -> Record:
        return self.curves[-1]


def _group_key(run: Run, sizes: tuple[int, int]) -> str:
    d = run.to_dict()
    shape = {k: d[k] for k in ("model", "optim", "steps", "eval_every", "target_acc", "margin")}
    return json.dumps([shape, sizes], sort_keys=True)


def group_runs(runs: Sequence[Run]) -> list[list[Run]]:
    """Runs grouped by everything a vmap ensemble must share; groups keep first-seen order."""
    sizes: dict[tuple[str, float, int | None, str | None], tuple[int, int]] = {}
    groups: dict[str, list[Run]] = {}
    for run in runs:
        data_key = (run.build_task().key, run.frac, run.n_samples, run.mixture)  # not on the seed
        if data_key not in sizes:
            s = make_split(run.build_task(), run.frac, run.split_seed, run.n_samples, run.mixture)
            sizes[data_key] = (s.train_x.shape[0], s.val_x.shape[0])
        groups.setdefault(_group_key(run, sizes[data_key]), []).append(run)
    return list(groups.values())


def log_steps(steps: int, count: int, every: int = 1) -> list[int]:
    """About `count` snapshot steps from 0 to `steps`, evenly spaced on a log axis and rounded to
    multiples of `every` (so each has an evaluation beside it); grokking's phases are log-spaced."""
    if count <= 0:
        return []
    raw = np.geomspace(max(every, 1), steps, num=max(count - 1, 1))
    return sorted({0, steps, *(min(steps, round(float(s) / every) * every) for s in raw)})


def group_id(runs: Sequence[Run]) -> str:
    return hashlib.sha256(json.dumps([r.to_dict() for r in runs], sort_keys=True).encode()).hexdigest()[:12]


def _adamw(params: list[torch.Tensor], o: OptimConfig) -> torch.optim.AdamW:
    betas = (o.beta1, o.beta2)
    return torch.optim.AdamW(params, lr=o.lr, betas=betas, eps=o.eps, weight_decay=o.weight_decay)


def batch_generator(run: Run) -> torch.Generator:
    return torch.Generator().manual_seed(run.seed * 1_000_003 + 7)  # a stream apart from init's


def _member_loss(logits: torch.Tensor, y: torch.Tensor, margin: float = 0.0) -> torch.Tensor:
    """logits [N, b, n_out, V], y [N, b, n_out] → mean cross-entropy per member [N], plus, with a
    `margin`, the mean shortfall of each output's logit margin (correct − best other) below it: a
    proof by bounds needs margins well above 0, which cross-entropy alone stops pushing for early."""
    ce = F.cross_entropy(logits.flatten(0, 2), y.flatten(), reduction="none")
    loss = ce.view(y.shape).mean(dim=(1, 2))
    if margin > 0:
        correct = logits.gather(-1, y.unsqueeze(-1)).squeeze(-1)
        other = logits.scatter(-1, y.unsqueeze(-1), float("-inf")).amax(-1)
        loss = loss + F.relu(margin - (correct - other)).mean(dim=(1, 2))
    return loss


@torch.no_grad()
def _measure(ens: Ensemble, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean loss and exact-match accuracy per member on x [N, n, pos], y [N, n, n_out]."""
    n = x.shape[1]
    loss, correct = torch.zeros(x.shape[0]), torch.zeros(x.shape[0])
    for s in range(0, n, EVAL_CHUNK):
        logits, yy = ens(x[:, s : s + EVAL_CHUNK]), y[:, s : s + EVAL_CHUNK]
        loss += _member_loss(logits, yy).cpu() * yy.shape[1]
        correct += (logits.argmax(-1) == yy).all(-1).sum(-1).cpu()
    return loss / n, correct / n


class _Group:
    """The mutable state of one group's training; everything in it goes into a checkpoint."""

    def __init__(self, runs: Sequence[Run], splits: Sequence[Split], device: torch.device) -> None:
        self.runs, self.device = list(runs), device
        cut = min(EVAL_SIZE, splits[0].train_x.shape[0]), min(EVAL_SIZE, splits[0].val_x.shape[0])
        self.train_x = torch.stack([s.train_x for s in splits]).to(device)  # [N, n_train, pos]
        self.train_y = torch.stack([s.train_y for s in splits]).to(device)  # [N, n_train, n_out]
        self.eval_train = self.train_x[:, : cut[0]], self.train_y[:, : cut[0]]
        self.eval_sizes = {
            "train": [cut[0], splits[0].train_x.shape[0]],
            "val": [cut[1], splits[0].val_x.shape[0]],
        }
        self.probe = SpectrumProbe.for_task(runs[0].build_task())
        self.val = (
            torch.stack([s.val_x[: cut[1]] for s in splits]).to(device),
            torch.stack([s.val_y[: cut[1]] for s in splits]).to(device),
        )
        self.step = 0
        self.active = list(range(len(runs)))  # run indices still training, in ensemble order
        self.curves: list[list[Record]] = [[] for _ in runs]
        self.finals: dict[int, tuple[dict[str, torch.Tensor], int]] = {}  # run → (weights, steps)
        self.gens = [batch_generator(r) for r in runs]
        self.ens = Ensemble.stack([build_model(r.model, r.seed, device) for r in runs])
        self.opt = _adamw(list(self.ens.params.values()), runs[0].optim)

    def checkpoint(self) -> dict[str, Any]:
        return {
            "runs": [r.to_dict() for r in self.runs],
            "step": self.step,
            "active": list(self.active),
            "params": {k: v.detach().cpu() for k, v in self.ens.params.items()},
            "optim": self.opt.state_dict(),
            "gens": [g.get_state() for g in self.gens],
            "curves": self.curves,
            "finals": [[i, state, steps] for i, (state, steps) in self.finals.items()],
        }

    def restore(self, ckpt: dict[str, Any], path: Path) -> None:
        if ckpt["runs"] != [r.to_dict() for r in self.runs]:
            raise ConfigError("resume", f"{path} is a checkpoint of different runs")
        self.step, self.active, self.curves = ckpt["step"], list(ckpt["active"]), ckpt["curves"]
        self.finals = {i: (state, steps) for i, state, steps in ckpt["finals"]}
        for g, state in zip(self.gens, ckpt["gens"], strict=True):
            g.set_state(state)
        params = {k: v.to(self.device).requires_grad_() for k, v in ckpt["params"].items()}
        self.ens = Ensemble(self.ens.cfg, params)
        self.opt = _adamw(list(params.values()), self.runs[0].optim)
        self.opt.load_state_dict(ckpt["optim"])

    def _keep(self, rows: list[int]) -> None:
        """Drop finished members from the ensemble, its data and AdamW's state."""
        keep = torch.tensor(rows, dtype=torch.long, device=self.device)
        old = list(self.ens.params.values())
        self.ens = self.ens.select(keep)
        new = list(self.ens.params.values())
        opt = _adamw(new, self.runs[0].optim)
        for p_old, p_new in zip(old, new, strict=True):
            st = self.opt.state[p_old]
            opt.state[p_new] = {k: (v if k == "step" else v[keep]).clone() for k, v in st.items()}
        self.opt = opt
        self.active = [self.active[r] for r in rows]

    def _rows(self, data: torch.Tensor) -> torch.Tensor:
        return data[torch.tensor(self.active, device=self.device)]

    def evaluate(self) -> list[int]:
        """Record one curve point per active member; return the rows that reached the target."""
        tl, ta = _measure(self.ens, self._rows(self.eval_train[0]), self._rows(self.eval_train[1]))
        vl, va = _measure(self.ens, self._rows(self.val[0]), self._rows(self.val[1]))
        norms = self.ens.weight_norms().cpu()
        ginis = self.probe(self.ens.params["embed.weight"].detach()).cpu() if self.probe else None
        target = self.runs[0].target_acc
        reached = []
        for row, i in enumerate(self.active):
            record = {
                "step": self.step,
                "train_loss": tl[row].item(),
                "train_acc": ta[row].item(),
                "val_loss": vl[row].item(),
                "val_acc": va[row].item(),
                "weight_norm": norms[row].item(),
            }
            if ginis is not None:
                record[GINI] = ginis[row].item()
            self.curves[i].append(record)
            window = self.runs[i].cleanup_window
            if target is None:
                continue
            if cleanup_done(self.curves[i], target, window) if window else va[row].item() >= target:
                reached.append(row)
        return reached

    def snapshot(self, root: Path) -> None:
        """Each active member's weights now, as `<root>/<run>/snapshots/step-NNNNNNN.safetensors`."""
        for row, i in enumerate(self.active):
            run = self.runs[i]
            folder = root / run.name / "snapshots"
            folder.mkdir(parents=True, exist_ok=True)
            meta = {"task": run.build_task().key, "run": json.dumps(run.to_dict()), "steps": str(self.step)}
            save_weights(folder / f"step-{self.step:07d}.safetensors", self.ens.member(row), run.model, meta)

    def update(self) -> None:
        """One AdamW step for every active member on its own (mini)batch."""
        n_train, bs = self.train_x.shape[1], self.runs[0].optim.batch_size
        x, y = self._rows(self.train_x), self._rows(self.train_y)
        if bs is not None and bs < n_train:
            idx = torch.stack([torch.randint(n_train, (bs,), generator=self.gens[i]) for i in self.active])
            rows = torch.arange(len(self.active))[:, None]
            x, y = x[rows, idx.to(self.device)], y[rows, idx.to(self.device)]
        # a sum, so each member gets its own loss's gradient
        loss = _member_loss(self.ens(x), y, self.runs[0].margin).sum()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.step += 1

    def finish(self, rows: list[int]) -> None:
        for row in rows:
            self.finals[self.active[row]] = (self.ens.member(row), self.step)
        remaining = [r for r in range(len(self.active)) if r not in rows]
        if remaining and rows:
            self._keep(remaining)
        elif not remaining:
            self.active = []


def train_group(
    runs: Sequence[Run],
    *,
    device: str | torch.device = "cpu",
    ckpt_path: Path | None = None,
    resume: bool = False,
    ckpt_every: int = 500,
    on_eval: OnEval | None = None,
    group: int = 0,
    snapshot_steps: Sequence[int] = (),
    snapshot_dir: Path | None = None,
) -> list[RunResult]:
    """Train one group (runs of one shape) as a vmap ensemble; see the module docstring."""
    if ckpt_every < 1:
        raise ConfigError("ckpt_every", f"must be a positive integer, got {ckpt_every}")
    start = time.perf_counter()
    dev = torch.device(device)
    splits = [make_split(r.build_task(), r.frac, r.split_seed, r.n_samples, r.mixture) for r in runs]
    g = _Group(runs, splits, dev)
    if resume and ckpt_path is not None and (ckpt := load_checkpoint(ckpt_path)) is not None:
        g.restore(ckpt, ckpt_path)
    steps, every = runs[0].steps, runs[0].eval_every
    snapshots = set(snapshot_steps) if snapshot_dir is not None else set()
    while g.active:
        if g.step in snapshots:  # rewritten identically after a resume: training replays bit for bit
            g.snapshot(snapshot_dir)
        if g.step % every == 0 or g.step == steps:
            g.finish(g.evaluate())
            if on_eval is not None:
                last = [c[-1]["val_acc"] if c else 0.0 for c in g.curves]
                on_eval(
                    EvalEvent(
                        group,
                        g.step,
                        steps,
                        tuple(r.name for r in runs),
                        tuple(last),
                        tuple(i in g.finals for i in range(len(runs))),
                    )
                )
        if g.step == steps or not g.active:
            break
        g.update()
        if ckpt_path is not None and g.step % ckpt_every == 0:
            save_checkpoint(ckpt_path, g.checkpoint())
    g.finish(list(range(len(g.active))))
    if ckpt_path is not None:  # a finished group resumes to its results without training
        save_checkpoint(ckpt_path, g.checkpoint())
    wall = time.perf_counter() - start
    return [
        RunResult(
            r,
            g.curves[i],
            {k: v.cpu() for k, v in g.finals[i][0].items()},
            g.finals[i][1],
            g.finals[i][1] < steps,
            wall,
            g.eval_sizes,
        )
        for i, r in enumerate(runs)
    ]


def train(
    runs: Sequence[Run],
    *,
    out_dir: str | Path | None = None,
    resume: bool = False,
    device: str = "cpu",
    ckpt_every: int = 500,
    on_eval: OnEval | None = None,
    ray: str | None = None,
    gpus_per_group: float = 0.0,
    snapshot_steps: Sequence[int] = (),
) -> list[RunResult]:
    """Train every run; results come back in the order of `runs`.

    `out_dir` receives checkpoints (`checkpoints/<group>.pt`), each run's final weights
    (`<run>/model.safetensors`, config and run in the metadata), `curves.json`, `curves.png` and
    `runs.json`. `ray`: None trains in this process; "local" starts a local Ray instance; any other
    value is a cluster address. Each Ray task trains one group on its worker's device.
    `snapshot_steps`: steps at which each member's weights go to `<run>/snapshots/` (in process only,
    and only with `out_dir`).
    """
    if not runs:
        raise ConfigError("runs", "nothing to train")
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise ConfigError("runs", "two runs have the same name (same task, parameters and seed)")
    groups = group_runs(runs)
    out = Path(out_dir) if out_dir is not None else None
    ckpts = [out / "checkpoints" / f"{group_id(g)}.pt" if out else None for g in groups]
    if resume and out is not None and not any(c is not None and c.exists() for c in ckpts):
        found = (
            sorted(p.name for p in (out / "checkpoints").glob("*.pt"))
            if (out / "checkpoints").is_dir()
            else []
        )
        known = f" (it holds {', '.join(found)}: other tasks, seeds or shapes)" if found else ""
        raise ConfigError(
            "resume",
            f"no checkpoint in {out} belongs to these runs{known}; run without --resume to start over",
        )
    if ray is not None:
        from circ.learn.ray_backend import train_groups_ray

        grouped = train_groups_ray(
            groups,
            ckpts,
            address=ray,
            resume=resume,
            ckpt_every=ckpt_every,
            gpus_per_group=gpus_per_group,
            on_eval=on_eval,
        )
    else:
        grouped = [
            train_group(
                g,
                device=device,
                ckpt_path=c,
                resume=resume,
                ckpt_every=ckpt_every,
                on_eval=on_eval,
                group=i,
                snapshot_steps=snapshot_steps,
                snapshot_dir=out,
            )
            for i, (g, c) in enumerate(zip(groups, ckpts, strict=True))
        ]
    by_name = {res.run.name: res for results in grouped for res in results}
    results = [by_name[n] for n in names]
    if out is not None:
        write_outputs(out, results)
    return results


def write_outputs(out: Path, results: Sequence[RunResult]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for res in results:
        task = res.run.build_task()
        (out / res.run.name).mkdir(exist_ok=True)
        meta = {
            "task": task.key,
            "signature": task.signature,
            "run": json.dumps(res.run.to_dict()),
            "steps": str(res.steps),
            "val_acc": repr(res.final["val_acc"]),
        }
        save_weights(out / res.run.name / "model.safetensors", res.state, res.run.model, meta)
    curves = {res.run.name: res.curves for res in results}
    save_curves(out / "curves.json", curves)
    summary = [
        {
            "name": r.run.name,
            "run": r.run.to_dict(),
            "steps": r.steps,
            "stopped_early": r.stopped_early,
            "wall_s": r.wall_s,
            "eval_sizes": r.eval_sizes,
            "loss_spikes": loss_spikes(r.curves),
            **{f"final_{k}": v for k, v in r.final.items() if k != "step"},
        }
        for r in results
    ]
    (out / "runs.json").write_text(json.dumps(summary, indent=1))
    plot_curves(out / "curves.png", curves, title=run_title(results), note=eval_note(results))


def run_title(results: Sequence[RunResult]) -> str:
    """Tasks and the hyperparameters that set grokking's pace, for a plot's title."""
    tasks = ", ".join(sorted({r.run.build_task().key for r in results}))
    seen = []
    for r in results:
        m, o = r.run.model, r.run.optim
        batch = "full batch" if o.batch_size is None else f"batch {o.batch_size}"
        text = (
            f"frac {r.run.frac:g} · d_model {m.d_model}, {m.n_heads} heads, d_mlp {m.d_mlp}, "
            f"{m.n_layers} layer{'s' if m.n_layers > 1 else ''}{', LayerNorm' if m.layernorm else ''} · "
            f"AdamW lr {o.lr:g}, wd {o.weight_decay:g}, {batch}"
        )
        if text not in seen:
            seen.append(text)
    seeds = sorted({r.run.seed for r in results})
    shown = "; ".join(seen[:2]) + (f"; +{len(seen) - 2} more settings" if len(seen) > 2 else "")
    return f"{tasks} · {shown} · seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds[:8]))}"


def eval_note(results: Sequence[RunResult]) -> str:
    """Which examples the curves were measured on: whole splits, or how much of each."""
    sizes = [r.eval_sizes for r in results if r.eval_sizes]
    if not sizes:
        return ""
    cut = [s for s in sizes if any(used < total for used, total in s.values())]
    if not cut:
        t, v = sizes[0]["train"][1], sizes[0]["val"][1]
        same = all(s == sizes[0] for s in sizes)
        return f"measured on the whole splits ({t:,} train / {v:,} val)" if same else "on the whole splits"
    s = cut[0]
    return (
        f"measured on the first {s['train'][0]:,} of {s['train'][1]:,} train and "
        f"{s['val'][0]:,} of {s['val'][1]:,} val examples (shuffled)"
    )
