"""`adapt(parent, task)`: specialise a trained circuit to a related task by training LoRA adapters only.

add → sub, mul → div, rot90 → rot270, succ → pred, reverse → rotate: the child task has the
parent's token interface (same vocabularies and positions), so the parent's embeddings, positions
and unembedding are kept frozen and only low-rank updates of its projections are learned (peft).
Several seeds train at once as a vmap ensemble (`lora.AdapterEnsemble`); each stops at its first
whole-domain pass of `check` (`fit`). The caller certifies the merged weights it registers.

The data follow the stdlib recipes' split policy: a tiny domain trains on all of it, a table that
groks (Mod[97] binary: 9,409 inputs) on half of it, a domain too large to train on whole on a
seeded sample in minibatches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from circ.lang.errors import ConfigError
from circ.learn.adapt.fit import Check, FitEvent, FitOptions, Fitted, fit
from circ.learn.adapt.lora import AdapterEnsemble, LoraOptions
from circ.learn.data import Task, accepted_params, get_task, make_split, task_from_key
from circ.learn.data.domain import MAX_ENUMERATE, enumerate_inputs, sample_inputs
from circ.learn.data.split import examples
from circ.learn.model import CircuitTransformer

SMALL_DOMAIN = 1_000  # up to here: train on the whole domain (too few inputs to hold any out)
TABLE_DOMAIN = 20_000  # up to here: train on half the table, full batch (the grokking split)
SAMPLE_CHECK = 100_000  # learn's own check of a domain too big to enumerate: a seeded sample


@dataclass(frozen=True)
class DataPlan:
    frac: float
    n_samples: int | None = None
    batch_size: int | None = None

    @classmethod
    def for_task(cls, task: Task) -> DataPlan:
        if task.domain_size <= SMALL_DOMAIN:
            return cls(1.0)
        if task.domain_size <= TABLE_DOMAIN:
            return cls(0.5)
        return cls(0.9, n_samples=100_000, batch_size=512)


@dataclass(frozen=True)
class AdaptOptions:
    lora: LoraOptions = field(default_factory=LoraOptions)
    fit: FitOptions = field(default_factory=FitOptions)
    seeds: int = 1
    data: DataPlan | None = None  # None: `DataPlan.for_task`

    def __post_init__(self) -> None:
        if isinstance(self.seeds, bool) or not isinstance(self.seeds, int) or self.seeds < 1:
            raise ConfigError("seeds", f"must be a positive integer, got {self.seeds!r}")


@dataclass
class Adaptation:
    task: Task
    options: AdaptOptions
    data: DataPlan
    members: list[Fitted]  # one per seed (0 … seeds-1)
    adapters: list[dict[str, torch.Tensor]]  # each seed's LoRA weights, peft naming
    peft_config: object  # the `LoraConfig` used

    @property
    def best(self) -> Fitted | None:
        """The seed that passed its check in the fewest steps; None if none passed."""
        passed = [m for m in self.members if m.reached]
        return min(passed, key=lambda m: (m.steps, m.index)) if passed else None


def related_task(parent_task: str, name: str) -> Task:
    """The task `name` with the parent's parameters it accepts (`mod_sub` of a `mod_add[p=97]`
    parent is `mod_sub[p=97]`); a full key (`mod_sub[p=97]`) is taken as written."""
    if "[" in name:
        return task_from_key(name)
    parent = task_from_key(parent_task)
    accepted = accepted_params(name)
    return get_task(name, **{k: v for k, v in parent.params if k in accepted})


def domain_accuracy(task: Task, seed: int = 0) -> Check:
    """learn's own whole-domain check: every input, or past `MAX_ENUMERATE` a seeded sample of
    `SAMPLE_CHECK` (then it is a sample's accuracy, and the caller must say so)."""
    if task.domain_size <= MAX_ENUMERATE:
        inputs = enumerate_inputs(task)
    else:
        inputs = sample_inputs(task, SAMPLE_CHECK, np.random.default_rng(seed))
    x, y = (torch.from_numpy(a) for a in examples(task, inputs))

    @torch.no_grad()
    def check(model: CircuitTransformer) -> float:
        right = sum(
            int((model(x[s : s + 32768]).argmax(-1) == y[s : s + 32768]).all(-1).sum())
            for s in range(0, x.shape[0], 32768)
        )
        return right / x.shape[0]

    return check


def adapt(
    parent: CircuitTransformer,
    task: Task,
    options: AdaptOptions | None = None,
    *,
    check: Check | None = None,
    on_eval: Callable[[FitEvent], None] | None = None,
) -> Adaptation:
    """LoRA adapters for `task` on the frozen `parent`, one per seed, trained as one vmap ensemble
    until each passes `check` (default `domain_accuracy(task)`) or `options.fit.steps` run out."""
    options = options or AdaptOptions()
    parent.cfg.check_interface(task.interface)
    plan = options.data or DataPlan.for_task(task)
    fit_options = options.fit if plan.batch_size is None else replace(options.fit, batch_size=plan.batch_size)
    seeds = list(range(options.seeds))
    splits = [make_split(task, plan.frac, s, plan.n_samples) for s in seeds]
    ens = AdapterEnsemble(parent.eval(), options.lora, seeds)
    members = fit(
        ens, parent.cfg, splits, fit_options, check or domain_accuracy(task), seeds=seeds, on_eval=on_eval
    )
    adapters = [ens.adapter(m.trained) for m in members]
    return Adaptation(task, options, plan, members, adapters, ens.peft.peft_config["default"])
