"""The monolithic side: runs for `circ.learn.train` at each budget, and exact-match scoring.

Every seed of one (point, budget) has the same data (`data_seed` 0) and its own initialisation, so
the seeds' spread is the spread of training, and one held-out set serves all of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from circ.circuit.config import ModelConfig
from circ.experiment.budget import Budget, fit_budget
from circ.experiment.config import Training
from circ.experiment.programs import Program
from circ.learn.data import make_split
from circ.learn.data.task import Task
from circ.learn.data.tokens import encode_inputs, encode_outputs, split_args
from circ.learn.model import CircuitTransformer
from circ.learn.run import OptimConfig, Run

EVAL_BATCH = 4096


def monolith_config(program: Program, budget: Budget, factor: int, training: Training) -> ModelConfig:
    layers, d_head, ratio = budget.shape
    iface = program.build_task().interface
    return fit_budget(iface, factor * budget.stored, training.n_layers or layers, d_head, ratio)


def monolith_runs(
    program: Program, cfg: ModelConfig, training: Training, seeds: Sequence[int], seed_offset: int = 0
) -> list[Run]:
    """One run per seed. A domain of at most 2·pool inputs (with no sampler of its own) trains on
    half of it and validates on the rest, as the Mod[97] circuits did; a larger one on `pool`
    sampled inputs, validated on `val` more."""
    task = program.build_task()
    if task.sampler is None and training.mixture is None and task.domain_size <= 2 * training.pool:
        n_samples, frac = None, 0.5
    else:
        n_samples = training.pool + training.val
        frac = training.pool / n_samples
    optim = OptimConfig(lr=training.lr, weight_decay=training.weight_decay, batch_size=training.batch_size)
    return [
        Run(
            task=program.task,
            params=program.params,
            model=cfg,
            optim=optim,
            seed=seed + seed_offset,
            steps=training.steps,
            frac=frac,
            target_acc=training.target_acc,
            eval_every=training.eval_every,
            n_samples=n_samples,
            data_seed=0,
            mixture=training.mixture,
        )
        for seed in seeds
    ]


def training_inputs(run: Run) -> list[np.ndarray]:
    """The raw inputs a run trains on (its split, recomputed: splits are determined by their seed)."""
    task = run.build_task()
    split = make_split(task, run.frac, run.split_seed, run.n_samples, run.mixture)
    return split_args(task.interface, split.train_x.numpy())


@torch.no_grad()
def accuracy(
    state: dict[str, torch.Tensor],
    cfg: ModelConfig,
    task: Task,
    inputs: list[np.ndarray],
    expected: np.ndarray,
    device: str = "cpu",
) -> float:
    """Exact match: the share of rows whose every output token is right."""
    model = CircuitTransformer(cfg)
    model.load_state_dict(state)
    model.to(device).eval()
    x = torch.from_numpy(encode_inputs(task.interface, inputs))
    y = torch.from_numpy(encode_outputs(task.interface, expected))
    right = 0
    for start in range(0, x.shape[0], EVAL_BATCH):
        logits = model(x[start : start + EVAL_BATCH].to(device))
        right += int((logits.argmax(-1).cpu() == y[start : start + EVAL_BATCH]).all(-1).sum())
    return right / max(1, x.shape[0])
