"""Per-distribution evaluation of a circuit: error counts and 95% Clopper–Pearson upper bounds.

A sample says nothing about inputs it did not draw from, so a sampled certificate is a list: one
row per named input distribution (`circ.learn.data.distributions`). A distribution whose support is
small (constant grids, one odd cell, sparse k ≤ 2, two-colour patterns) is checked on its whole
support, which gives its exact error rate. A larger one is sampled with a seed that must differ from
the training split's, and any sampled input that also occurs in the training data is dropped and
counted (`in_training`), so the bound is about inputs the circuit was not fitted to.

The bound is the one-sided 95% Clopper–Pearson upper bound on the error rate (0 errors in 10^6
draws gives ≈ 3.0·10^-6, the "rule of three"), from scipy's beta quantile.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import beta

from circ.lang.errors import ConfigError
from circ.learn.data.distributions import names_for, sample, support
from circ.learn.data.split import examples
from circ.learn.data.task import Task

CONFIDENCE = 0.95
SAMPLES_PER_DISTRIBUTION = 100_000
BATCH = 1 << 14


def clopper_pearson_upper(n_wrong: int, n: int, confidence: float = CONFIDENCE) -> float:
    """One-sided upper confidence bound on a binomial rate after `n_wrong` failures in `n` trials."""
    if n < 1 or not 0 <= n_wrong <= n:
        raise ValueError(f"need 0 <= n_wrong <= n and n >= 1, got n_wrong={n_wrong}, n={n}")
    if n_wrong == n:
        return 1.0
    return float(beta.ppf(confidence, n_wrong + 1, n - n_wrong))


@dataclass(frozen=True)
class DistributionResult:
    distribution: str
    n_checked: int
    n_wrong: int
    exhaustive: bool  # the distribution's whole support was checked: the rate is exact
    upper_bound: float  # the exact rate when exhaustive, else the 95% Clopper–Pearson upper bound
    in_training: int  # sampled inputs dropped because the training data holds them (0 when exhaustive)
    seed: int | None  # None when exhaustive
    counterexamples: tuple[tuple[int, ...], ...]  # up to 5 wrong raw inputs (flat cells)

    @property
    def error_rate(self) -> float:
        return self.n_wrong / self.n_checked if self.n_checked else float("nan")


def _row_keys(rows: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rows.astype(np.int8)).view(np.dtype((np.void, rows.shape[1]))).ravel()


@torch.no_grad()
def count_wrong(task: Task, model: torch.nn.Module, inputs: list[np.ndarray]) -> tuple[int, np.ndarray]:
    """Wrong answers of `model` (fp32, as it runs) on raw inputs: (count, row indices of the wrong)."""
    x, y = examples(task, inputs)
    wrong = []
    for start in range(0, x.shape[0], BATCH):
        predicted = model(torch.from_numpy(x[start : start + BATCH])).argmax(-1).numpy()
        wrong.append(np.flatnonzero((predicted != y[start : start + BATCH]).any(axis=1)) + start)
    rows = np.concatenate(wrong) if wrong else np.zeros(0, dtype=np.int64)
    return int(rows.size), rows


def evaluate_distributions(
    task: Task,
    model: torch.nn.Module,
    *,
    seed: int,
    training_inputs: np.ndarray | None,
    training_seed: int | None = None,
    names: Iterable[str] | None = None,
    n: int = SAMPLES_PER_DISTRIBUTION,
) -> list[DistributionResult]:
    """One result per named distribution. `training_inputs` are the raw training (and validation)
    inputs `[N, cells]`, which sampled rows must avoid; `training_seed` the split's seed, which the
    evaluation `seed` must differ from. Pass `training_inputs=None` only for a circuit trained on
    its whole domain (then there is nothing to be disjoint from, and the check says so by name)."""
    if training_seed is not None and seed == training_seed:
        raise ConfigError("seed", f"the evaluation seed must differ from the training seed {training_seed}")
    seen = None if training_inputs is None else set(_row_keys(training_inputs).tolist())
    results = []
    for i, name in enumerate(names_for(task) if names is None else names):
        listed = support(task, name)
        dropped = 0
        if listed is not None:
            inputs, exhaustive, used_seed = listed, True, None
        else:
            used_seed = seed * 1000 + i  # a stream per distribution, so adding one shifts no other
            inputs, exhaustive = sample(task, name, n, np.random.default_rng(used_seed)), False
            if seen is not None:
                fresh = np.array([k not in seen for k in _row_keys(inputs[0]).tolist()], dtype=bool)
                dropped = int((~fresh).sum())
                inputs = [a[fresh] for a in inputs]
        n_checked = inputs[0].shape[0]
        n_wrong, rows = count_wrong(task, model, inputs) if n_checked else (0, np.zeros(0, dtype=np.int64))
        if n_checked == 0:  # every draw was a training input: nothing is known
            bound = 1.0
        else:
            bound = n_wrong / n_checked if exhaustive else clopper_pearson_upper(n_wrong, n_checked)
        examples_ = tuple(tuple(int(v) for v in inputs[0][r]) for r in rows[:5])
        results.append(
            DistributionResult(name, n_checked, n_wrong, exhaustive, bound, dropped, used_seed, examples_)
        )
    return results
