"""Seeded train/val splits of a task's examples, as model-ready token tensors.

A domain small enough to list (≤ `MAX_ENUMERATE` inputs) is permuted by the seed and cut at `frac`,
so val is exactly the unseen rest of the domain (the grokking setup). `frac=1` trains on the whole
domain and validates on it too: for domains too small to hold anything out (a `Color -> Color`
circuit has ten inputs), where the question is exactness on every input, not generalisation.
A larger domain (grids, long sequences) is sampled: `n_samples` seeded draws, cut at `frac`; with
≥10⁹ inputs repeats are rare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from circ.lang.errors import ConfigError
from circ.learn.data.distributions import sample_mixture
from circ.learn.data.domain import MAX_ENUMERATE, enumerate_inputs, sample_inputs
from circ.learn.data.task import Task
from circ.learn.data.tokens import encode_inputs, encode_outputs

DEFAULT_SAMPLES = 20_000


@dataclass(frozen=True, eq=False)
class Split:
    task: Task
    train_x: torch.Tensor  # [n_train, n_positions] input tokens
    train_y: torch.Tensor  # [n_train, n_out] target tokens
    val_x: torch.Tensor  # [n_val, n_positions]
    val_y: torch.Tensor  # [n_val, n_out]
    exhaustive: bool  # True when train ∪ val is the whole (valid) domain


def check_frac(frac: float) -> float:
    if isinstance(frac, bool) or not isinstance(frac, int | float) or not 0.0 < frac <= 1.0:
        raise ConfigError("frac", f"the train fraction must be in (0, 1], got {frac!r}")
    return float(frac)


def examples(task: Task, inputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Raw inputs → (input tokens `[N, n_positions]`, target tokens `[N, n_out]`)."""
    iface = task.interface
    return encode_inputs(iface, inputs), encode_outputs(iface, task(*inputs))


def make_split(
    task: Task, frac: float, seed: int, n_samples: int | None = None, mixture: str | None = None
) -> Split:
    """Train/val tensors for `task`; the same (task, frac, seed, n_samples, mixture) always gives the
    same split. `mixture` names a `distributions.MIXTURES` entry to sample from instead of uniform."""
    frac = check_frac(frac)
    rng = np.random.default_rng(seed)
    own = task.sampler is not None and mixture is None
    exhaustive = n_samples is None and mixture is None and not own and task.domain_size <= MAX_ENUMERATE
    if exhaustive:
        inputs = enumerate_inputs(task)
        n = inputs[0].shape[0]
        order = rng.permutation(n)
    else:
        n = n_samples or DEFAULT_SAMPLES
        if n < 2:
            raise ConfigError("n_samples", f"must be >= 2, got {n}")
        if own:
            inputs = task.sampler(n, rng)  # type: ignore[misc]
        else:
            inputs = sample_inputs(task, n, rng) if mixture is None else sample_mixture(task, mixture, n, rng)
        order = np.arange(n)
    if n < 2:
        raise ConfigError("task", f"{task.key} has {n} valid input(s); a split needs at least 2")
    x, y = examples(task, inputs)
    if frac == 1.0:
        tr = va = order
    else:
        n_train = min(n - 1, max(1, round(frac * n)))
        tr, va = order[:n_train], order[n_train:]
    t = torch.from_numpy
    return Split(task, t(x[tr]), t(y[tr]), t(x[va]), t(y[va]), exhaustive)
