"""What to train: a `Run` is (task, model config, optimiser config, seed, steps, split fraction, …).

Runs are plain frozen data (JSON round-trips), so they can be grouped, checkpointed with their state,
and shipped to Ray workers. Each validates itself on construction and raises a `ConfigError` naming
the offending field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from circ.circuit.config import ModelConfig
from circ.lang.errors import ConfigError
from circ.learn.data import Task, accepted_params, get_task
from circ.learn.data.distributions import MIXTURES
from circ.learn.data.split import check_frac

GROKKING_LR = 1e-3  # Power et al. 2022; the library default
# `circ train`'s default (with d_model 64), from a sweep on the 2-core CPU (benchmarks/RESULTS.md):
# 16 of 16 seeds of mod_add p=31, frac 0.5 pass 99% val accuracy by step 1.4k; 15/16 at d_model 128
# or lr 5e-3, and at 3e-3 seeds were still below 99% after 5k steps.
CPU_RECIPE_LR = 1e-2


@dataclass(frozen=True)
class OptimConfig:
    """AdamW with the grokking defaults (Power et al. 2022: lr 1e-3, wd 1, betas 0.9/0.98)."""

    lr: float = GROKKING_LR
    weight_decay: float = 1.0
    beta1: float = 0.9
    beta2: float = 0.98
    eps: float = 1e-8
    batch_size: int | None = None  # None: full batch

    def __post_init__(self) -> None:
        for name in ("lr", "weight_decay", "beta1", "beta2", "eps"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
            ):
                raise ConfigError(f"optim.{name}", f"must be a finite non-negative number, got {value!r}")
        if self.lr == 0:
            raise ConfigError("optim.lr", "must be positive, got 0")
        for name in ("beta1", "beta2"):
            if not getattr(self, name) < 1:
                raise ConfigError(f"optim.{name}", f"must be below 1, got {getattr(self, name)}")
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            raise ConfigError("optim.batch_size", f"must be a positive integer, got {self.batch_size}")


def _positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(name, f"must be a positive integer, got {value!r}")


@dataclass(frozen=True)
class Run:
    task: str
    model: ModelConfig
    optim: OptimConfig = field(default_factory=OptimConfig)
    seed: int = 0  # model init (and, unless data_seed is set, the train/val split)
    steps: int = 1000
    frac: float = 0.5  # train fraction of the domain (or of the sample pool)
    params: tuple[tuple[str, int], ...] = ()  # task parameters, e.g. (("p", 31),)
    target_acc: float | None = None  # stop once val accuracy reaches this
    eval_every: int = 10
    n_samples: int | None = None  # sample pool size for domains too big to enumerate
    data_seed: int | None = None
    # None: stop at target_acc. Steps: once at target, train on until clean-up is over (the embedding's
    # Fourier sparsity rose by less than a set amount over this many steps; learn/analyse/cleanup.py)
    cleanup_window: int | None = None
    mixture: str | None = None  # sample training inputs from this `distributions.MIXTURES` entry
    margin: float = 0.0  # target logit margin: each output below it adds its shortfall to the loss

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(sorted((str(k), v) for k, v in dict(self.params).items())))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError("seed", f"must be a non-negative integer, got {self.seed!r}")
        _positive_int("steps", self.steps)
        _positive_int("eval_every", self.eval_every)
        if self.n_samples is not None:
            _positive_int("n_samples", self.n_samples)
        check_frac(self.frac)
        if self.mixture is not None and self.mixture not in MIXTURES:
            raise ConfigError("mixture", f"unknown {self.mixture!r} (known: {', '.join(MIXTURES)})")
        margin = self.margin
        if (
            isinstance(margin, bool)
            or not isinstance(margin, int | float)
            or not math.isfinite(margin)
            or margin < 0
        ):
            raise ConfigError("margin", f"must be a non-negative number, got {self.margin!r}")
        if self.target_acc is not None and not 0 < self.target_acc <= 1:
            raise ConfigError("target_acc", f"must be in (0, 1], got {self.target_acc!r}")
        if self.cleanup_window is not None:
            _check_cleanup(self)
        self.model.check_interface(self.build_task().interface)

    def build_task(self) -> Task:
        return get_task(self.task, **dict(self.params))

    @property
    def split_seed(self) -> int:
        return self.seed if self.data_seed is None else self.data_seed

    @property
    def name(self) -> str:
        """A file-name-safe id, e.g. `mod_add-p31-s0`."""
        key = self.build_task().key.replace("=", "")
        return f"{re.sub(r'[^A-Za-z0-9_.]+', '-', key).strip('-')}-s{self.seed}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["params"] = dict(self.params)
        if d["cleanup_window"] is None:  # unset, a run keeps the dict (and checkpoint names) it had before
            del d["cleanup_window"]
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Run:
        data = dict(data)
        names = {f.name for f in fields(cls)}
        for key in data:
            if key not in names:
                raise ConfigError(key, f"no such run field (fields: {', '.join(sorted(names))})")
        model = ModelConfig.from_dict(dict(data.pop("model")))
        optim = _optim_from_dict(dict(data.pop("optim", {})))
        return cls(model=model, optim=optim, params=tuple(dict(data.pop("params", {})).items()), **data)


def _check_cleanup(run: Run) -> None:
    from circ.learn.analyse.bases import modulus
    from circ.learn.analyse.fourier import MAX_MODULUS

    _positive_int("cleanup_window", run.cleanup_window)
    if run.target_acc is None:
        raise ConfigError("cleanup_window", "needs a target_acc: clean-up is measured once it is reached")
    p = modulus(run.build_task())
    if p is None:
        raise ConfigError("cleanup_window", f"{run.task} has no Mod[p] inputs, no Fourier spectrum to watch")
    if p > MAX_MODULUS:
        raise ConfigError("cleanup_window", f"clean-up is watched for p ≤ {MAX_MODULUS:,}, got p = {p:,}")


def _optim_from_dict(data: dict[str, Any]) -> OptimConfig:
    names = {f.name for f in fields(OptimConfig)}
    for key in data:
        if key not in names:
            raise ConfigError(f"optim.{key}", f"no such field (fields: {', '.join(sorted(names))})")
    return OptimConfig(**data)


def make_runs(
    tasks: Iterable[str],
    seeds: Iterable[int],
    *,
    params: Mapping[str, int] | None = None,
    model: Mapping[str, Any] | None = None,
    optim: OptimConfig | None = None,
    **options: Any,
) -> list[Run]:
    """One run per (task, seed). Each task takes the `params` it accepts; a parameter no task takes is
    an error. `model` holds size fields (d_model, n_layers, …); vocab and positions come from the task.
    `options` are the remaining `Run` fields (steps, frac, target_acc, …)."""
    tasks, params = list(tasks), dict(params or {})
    if not tasks:
        raise ConfigError("task", "give at least one task")
    accepted = {t: accepted_params(t) for t in tasks}
    for key in params:
        if not any(key in acc for acc in accepted.values()):
            raise ConfigError(key, f"no task in {', '.join(tasks)} takes this parameter")
    runs = []
    for t in tasks:
        task_params = {k: v for k, v in params.items() if k in accepted[t]}
        iface = get_task(t, **task_params).interface
        cfg = ModelConfig.for_interface(iface, **dict(model or {}))
        for seed in seeds:
            runs.append(
                Run(
                    task=t,
                    model=cfg,
                    optim=optim or OptimConfig(),
                    seed=seed,
                    params=tuple(task_params.items()),
                    **options,
                )
            )
    names = [r.name for r in runs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError("seeds", f"duplicate runs: {', '.join(dupes)}")
    return runs
