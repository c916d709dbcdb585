"""Train an ensemble until each member is right on the whole domain: `fit(ensemble, splits, …)`.

One loop for the three ways to get a circuit for a task that `benchmarks/adapt.py` compares: LoRA
adapters on a parent (`AdapterEnsemble`), full fine-tuning of copies of the parent and training from
scratch (both `circ.learn.ensemble.Ensemble`). Whatever is trained, the stopping rule is the same:
at every evaluation a member whose train and validation samples are all right is handed to `check`,
which runs it on the whole domain (the caller's certification; learn code cannot import verify) and
returns its accuracy; a member stops at the first check that returns 1.0, keeping those weights.
A member that never passes keeps its last weights and `reached=False`.

Members train with AdamW on their own data (the loss is the sum of the members' losses, as in
`circ.learn.train`), and a member that stops leaves the ensemble so the rest train with less work.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import torch
import torch.nn.functional as F

from circ.circuit.config import ModelConfig
from circ.lang.errors import ConfigError
from circ.learn.curves import Record
from circ.learn.data import Split
from circ.learn.model import CircuitTransformer
from circ.learn.train import EVAL_CHUNK, EVAL_SIZE

Check = Callable[[CircuitTransformer], float]  # a circuit → its accuracy on the whole domain


class Trainable(Protocol):
    """What `fit` trains: stacked leaves `params` `[N, …]`, a vmapped forward, and members."""

    params: dict[str, torch.Tensor]

    def __call__(self, tokens: torch.Tensor) -> torch.Tensor: ...

    def select(self, keep: torch.Tensor) -> Trainable: ...

    def member(self, i: int) -> dict[str, torch.Tensor]: ...

    def weight_norms(self) -> torch.Tensor: ...


@dataclass(frozen=True)
class FitOptions:
    lr: float = 1e-2
    weight_decay: float = 1.0  # also on adapters: it pulls them back to the parent (measured: it generalises)
    beta1: float = 0.9
    beta2: float = 0.98
    steps: int = 3000
    eval_every: int = 25
    batch_size: int | None = None  # None: full batch

    def __post_init__(self) -> None:
        for name in ("steps", "eval_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(name, f"must be a positive integer, got {value!r}")
        if not (isinstance(self.lr, int | float) and self.lr > 0):
            raise ConfigError("lr", f"must be a positive number, got {self.lr!r}")
        if not (isinstance(self.weight_decay, int | float) and self.weight_decay >= 0):
            raise ConfigError("weight_decay", f"must be a non-negative number, got {self.weight_decay!r}")
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            raise ConfigError("batch_size", f"must be a positive integer, got {self.batch_size!r}")


@dataclass
class Fitted:
    """One member's outcome."""

    state: dict[str, torch.Tensor]  # CircuitTransformer weights (merged, for an adapter), on the CPU
    trained: dict[str, torch.Tensor]  # an adapter's own weights (A and B) as trained; {} for full training
    steps: int  # optimiser steps done when it stopped
    reached: bool  # `check` returned 1.0
    wall_s: float  # seconds from the start of `fit` to its stop (its ensemble trained alongside)
    curves: list[Record] = field(default_factory=list)
    checks: list[tuple[int, float]] = field(default_factory=list)  # (step, whole-domain accuracy)
    index: int = 0  # which member (seed) it was


@dataclass(frozen=True)
class FitEvent:
    """Sent to `on_eval` after each evaluation; the fields of `circ.learn.train.EvalEvent`, so one
    progress display serves both."""

    group: int
    step: int
    steps: int
    names: tuple[str, ...]  # "seed 0", "seed 1", …
    val_acc: tuple[float, ...]  # latest per member
    done: tuple[bool, ...]


def _loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """logits [N, b, n_out, V], y [N, b, n_out] → mean cross-entropy per member [N]."""
    ce = F.cross_entropy(logits.flatten(0, 2), y.flatten(), reduction="none")
    return ce.view(y.shape).mean(dim=(1, 2))


@torch.no_grad()
def _accuracy(ens: Trainable, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean loss and exact-match accuracy per member on x [N, n, pos], y [N, n, n_out]."""
    loss, correct = torch.zeros(x.shape[0]), torch.zeros(x.shape[0])
    for s in range(0, x.shape[1], EVAL_CHUNK):
        logits, yy = ens(x[:, s : s + EVAL_CHUNK]), y[:, s : s + EVAL_CHUNK]
        loss += _loss(logits, yy).cpu() * yy.shape[1]
        correct += (logits.argmax(-1) == yy).all(-1).sum(-1).cpu()
    return loss / x.shape[1], correct / x.shape[1]


def _adamw(params: list[torch.Tensor], o: FitOptions) -> torch.optim.AdamW:
    return torch.optim.AdamW(params, lr=o.lr, betas=(o.beta1, o.beta2), weight_decay=o.weight_decay)


def fit(
    ens: Trainable,
    cfg: ModelConfig,
    splits: Sequence[Split],
    options: FitOptions,
    check: Check,
    *,
    seeds: Sequence[int] | None = None,
    on_eval: Callable[[FitEvent], None] | None = None,
) -> list[Fitted]:
    """Train member i on `splits[i]` until `check` passes it; see the module docstring.
    `seeds[i]` seeds member i's minibatch order (default i)."""
    n = len(splits)
    seeds = list(range(n)) if seeds is None else list(seeds)
    device = next(iter(ens.params.values())).device
    start = time.perf_counter()

    def stacked(part: str, cut: int | None = None) -> torch.Tensor:
        return torch.stack([getattr(s, part)[:cut] for s in splits]).to(device)

    train_x, train_y = stacked("train_x"), stacked("train_y")
    evals = {
        "train": (stacked("train_x", EVAL_SIZE), stacked("train_y", EVAL_SIZE)),
        "val": (stacked("val_x", EVAL_SIZE), stacked("val_y", EVAL_SIZE)),
    }
    gens = [torch.Generator().manual_seed(s * 1_000_003 + 7) for s in seeds]
    opt = _adamw(list(ens.params.values()), options)
    active, step = list(range(n)), 0
    curves: list[list[Record]] = [[] for _ in range(n)]
    checks: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    finals: dict[int, Fitted] = {}

    def rows(t: torch.Tensor) -> torch.Tensor:
        return t[torch.tensor(active, device=device)]

    while active:
        if step % options.eval_every == 0 or step == options.steps:
            tl, ta = _accuracy(ens, *map(rows, evals["train"]))
            vl, va = _accuracy(ens, *map(rows, evals["val"]))
            norms = ens.weight_norms().cpu()
            stopped = []
            for row, i in enumerate(active):
                curves[i].append(
                    {
                        "step": step,
                        "train_loss": tl[row].item(),
                        "train_acc": ta[row].item(),
                        "val_loss": vl[row].item(),
                        "val_acc": va[row].item(),
                        "weight_norm": norms[row].item(),
                    }
                )
                if ta[row].item() == 1.0 and va[row].item() == 1.0:
                    state = {k: v.cpu() for k, v in ens.member(row).items()}
                    model = CircuitTransformer(cfg)
                    model.load_state_dict(state)
                    accuracy = float(check(model.eval()))
                    checks[i].append((step, accuracy))
                    if accuracy == 1.0:
                        wall = time.perf_counter() - start
                        leaves = _leaves(ens, row)
                        finals[i] = Fitted(state, leaves, step, True, wall, curves[i], checks[i], i)
                        stopped.append(row)
            if on_eval is not None:
                last = tuple(c[-1]["val_acc"] if c else 0.0 for c in curves)
                names = tuple(f"seed {s}" for s in seeds)
                on_eval(FitEvent(0, step, options.steps, names, last, tuple(i in finals for i in range(n))))
            if stopped:
                ens, opt, active = _drop(ens, opt, options, active, stopped)
        if step == options.steps or not active:
            break
        x, y = rows(train_x), rows(train_y)
        bs, n_train = options.batch_size, train_x.shape[1]
        if bs is not None and bs < n_train:
            idx = torch.stack([torch.randint(n_train, (bs,), generator=gens[i]) for i in active]).to(device)
            r = torch.arange(len(active), device=device)[:, None]
            x, y = x[r, idx], y[r, idx]
        loss = _loss(ens(x), y).sum()  # a sum: each member gets its own loss's gradient
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
    wall = time.perf_counter() - start
    for row, i in enumerate(active):
        state = {k: v.cpu() for k, v in ens.member(row).items()}
        finals[i] = Fitted(state, _leaves(ens, row), step, False, wall, curves[i], checks[i], i)
    return [finals[i] for i in range(n)]


def _leaves(ens: Trainable, row: int) -> dict[str, torch.Tensor]:
    """An adapter ensemble's own trained weights of a member (`AdapterEnsemble.leaves`), else {}."""
    leaves = getattr(ens, "leaves", None)
    return leaves(row) if leaves is not None else {}


def _drop(
    ens: Trainable, opt: torch.optim.AdamW, options: FitOptions, active: list[int], stopped: list[int]
) -> tuple[Trainable, torch.optim.AdamW, list[int]]:
    """The ensemble, optimiser (its state carried over) and active list without the `stopped` rows."""
    remaining = [r for r in range(len(active)) if r not in stopped]
    if not remaining:
        return ens, opt, []
    keep = torch.tensor(remaining, dtype=torch.long, device=next(iter(ens.params.values())).device)
    old = list(ens.params.values())
    ens = ens.select(keep)
    new = list(ens.params.values())
    fresh = _adamw(new, options)
    for p_old, p_new in zip(old, new, strict=True):
        state = opt.state[p_old]
        fresh.state[p_new] = {k: (v if k == "step" else v[keep]).clone() for k, v in state.items()}
    return ens, fresh, [active[r] for r in remaining]
