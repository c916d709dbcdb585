"""The inputs each point is scored on, shared by both systems, exact match on every output.

A domain small enough to list is scored whole: the composed program on all of it, both systems on
what the monolith did not train on. A larger one gets a seeded sample with the monolith's training
inputs taken out. Grids are also scored on each named low-entropy distribution (the ARC-like grids
a uniform sample never holds): whole supports where small, samples otherwise; these distributions
are part of the `arc` mixture both the circuits and the monolith trained on, so they are reported
with how many of their inputs the monolith saw in training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from circ.experiment.config import ExperimentConfig
from circ.experiment.points import Point
from circ.learn.data import distributions
from circ.learn.data.domain import enumerate_inputs, sample_inputs

TEST_SEED = 20_261_201  # apart from every training seed


@dataclass(frozen=True)
class TestSet:
    name: str  # "held-out" (the headline), "whole domain", or a distribution's name
    kind: str  # how it was drawn, for the report
    inputs: list[np.ndarray]  # raw, in the monolith task's layout
    expected: np.ndarray  # [rows, width]: the reference's answers
    monolith: bool = True  # False: the composed program only (the whole domain, training inputs included)
    seen: int = 0  # rows the monolith trained on (kept only for the distributions)

    @property
    def rows(self) -> int:
        return int(self.expected.shape[0])


def _keys(inputs: list[np.ndarray]) -> np.ndarray:
    """One comparable key per row (the row's bytes)."""
    flat = np.ascontiguousarray(np.concatenate(inputs, axis=1).astype(np.int64))
    return flat.view(np.dtype((np.void, flat.itemsize * flat.shape[1]))).ravel()


def unseen(inputs: list[np.ndarray], train: list[np.ndarray]) -> np.ndarray:
    """Mask of the rows of `inputs` that are not among `train`'s rows."""
    return ~np.isin(_keys(inputs), _keys(train))


def _rows(inputs: list[np.ndarray], mask: np.ndarray) -> list[np.ndarray]:
    return [x[mask] for x in inputs]


def test_sets(point: Point, config: ExperimentConfig, train: list[np.ndarray]) -> list[TestSet]:
    """`train`: the monolith's training inputs (its task's layout)."""
    task = point.program.build_task()  # the monolith task's function at this point
    rng = np.random.default_rng(TEST_SEED + point.x)

    def make(name: str, kind: str, inputs: list[np.ndarray], **extra: object) -> TestSet:
        return TestSet(name, kind, inputs, task(*inputs), **extra)  # type: ignore[arg-type]

    out = []
    if point.axis == "length":
        drawn = task.sampler(config.test_fold, rng)  # type: ignore[misc]
        keep = unseen(drawn, train)
        out.append(
            make("held-out", f"sample of {config.test_fold:,}, training inputs removed", _rows(drawn, keep))
        )
        if 10**point.x <= config.list_domain:  # every Seq[Color, m], padded as the monolith's inputs are
            size = 10**point.x
            padded = np.zeros((size, train[0].shape[1]), dtype=np.int64)
            padded[:, -point.x :] = np.stack(np.unravel_index(np.arange(size), (10,) * point.x), axis=1)
            out.append(make("whole domain", f"all {size:,} inputs", [padded], monolith=False))
        return out
    if task.domain_size <= config.list_domain:
        every = enumerate_inputs(task)
        keep = unseen(every, train)
        size = every[0].shape[0]
        out.append(
            make(
                "held-out",
                f"whole domain less {size - int(keep.sum()):,} training inputs",
                _rows(every, keep),
            )
        )
        out.append(make("whole domain", f"all {size:,} inputs", every, monolith=False))
    else:
        if point.domain == "grid":
            drawn = distributions.sample(task, "uniform", config.test_sample, rng)
        else:
            drawn = sample_inputs(task, config.test_sample, rng)
        keep = unseen(drawn, train)
        kind = f"uniform sample of {config.test_sample:,}, training inputs removed"
        out.append(make("held-out", kind, _rows(drawn, keep)))
    if point.domain == "grid":
        out += _distributions(point, config, train, rng, make)
    return out


def _distributions(
    point: Point,
    config: ExperimentConfig,
    train: list[np.ndarray],
    rng: np.random.Generator,
    make: Callable[..., TestSet],
) -> list[TestSet]:
    task = point.program.build_task()
    found = []
    for name in distributions.names_for(task):
        if name == "uniform":
            continue
        size = distributions.support_size(name, distributions.cell_shape(task))
        whole = (
            distributions.support(task, name)
            if size is not None and size <= config.test_per_distribution
            else None
        )
        inputs = whole or distributions.sample(task, name, config.test_per_distribution, rng)
        kind = (
            f"whole support ({inputs[0].shape[0]:,})"
            if whole
            else f"sample of {config.test_per_distribution:,}"
        )
        seen = int((~unseen(inputs, train)).sum())
        found.append(make(name, kind, inputs, seen=seen))
    return found
