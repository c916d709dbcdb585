"""A circuit's whole finite domain as tensors, and the check every extraction is held to.

Extraction (pruning, transcoder replacement) changes a certified circuit; the change counts only if
the result is still right on *every* input. This is that check, computed with learn's own data code
(`enumerate_inputs`, `examples`) so that `circ.learn` need not import the runtime: the model's argmax
against the task's reference on the whole domain, plus the minimum logit margin (correct logit minus
the best other logit, over every input and output position), which says how close to a flip it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from circ.lang.errors import ConfigError
from circ.learn.data.domain import MAX_ENUMERATE, enumerate_inputs
from circ.learn.data.split import examples
from circ.learn.data.task import Task

# Rows per forward pass: one-thread CPU throughput of a d_model-64, 12-position circuit is flat from
# 1k to 4k rows and 1.5-2x worse at 16k-64k (activations fall out of cache); measured 2026-12-01.
BATCH = 2048


@dataclass(frozen=True, eq=False)
class Domain:
    """Every valid input of a task: model tokens, target tokens, and the raw argument values."""

    task: Task
    tokens: torch.Tensor  # [N, n_positions] int64
    targets: torch.Tensor  # [N, n_out] int64
    inputs: tuple[np.ndarray, ...]  # raw argument values, one [N, tokens_i] array per argument
    sampled: bool = False  # True for a seeded subset (used to score or plot, never to certify)

    @property
    def size(self) -> int:
        return int(self.tokens.shape[0])

    def rows(self, index: np.ndarray | torch.Tensor, *, sampled: bool = True) -> Domain:
        """The rows `index` of this domain (a sample, unless `sampled=False` says it is a reordering)."""
        index = torch.as_tensor(index, dtype=torch.long)
        raw = tuple(a[index.numpy()] for a in self.inputs)
        return Domain(self.task, self.tokens[index], self.targets[index], raw, sampled or self.sampled)

    def sample(self, n: int, seed: int = 0) -> Domain:
        """At most `n` rows drawn without replacement (the whole domain when it has ≤ n rows)."""
        if self.size <= n:
            return self
        index = np.sort(np.random.default_rng(seed).choice(self.size, size=n, replace=False))
        return self.rows(index)


def whole_domain(task: Task) -> Domain:
    """The task's every valid input, or a `ConfigError` when there are too many to list."""
    if task.domain_size > MAX_ENUMERATE:
        raise ConfigError(
            "circuit",
            f"{task.key} has {task.domain_size:,} inputs, more than the {MAX_ENUMERATE:,} that can be "
            "enumerated; extraction is checked on the whole domain, so it needs an enumerable one",
        )
    inputs = enumerate_inputs(task)
    x, y = examples(task, inputs)
    return Domain(task, torch.from_numpy(x), torch.from_numpy(y), tuple(inputs))


@dataclass(frozen=True)
class DomainCheck:
    n_checked: int
    n_wrong: int
    min_margin: float  # over the rows checked; negative when some answer is wrong
    complete: bool  # False when the check stopped at the first batch with a wrong answer
    domain_size: int

    @property
    def accuracy(self) -> float:
        return (self.n_checked - self.n_wrong) / self.n_checked

    @property
    def exact(self) -> bool:
        """Right on every input of the (whole, unsampled) domain."""
        return self.complete and self.n_wrong == 0 and self.n_checked == self.domain_size


def margins(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """logits [B, n_out, V], targets [B, n_out] → correct logit − best other logit, [B, n_out]."""
    correct = logits.gather(-1, targets[..., None])[..., 0]
    others = logits.scatter(-1, targets[..., None], float("-inf"))
    return correct - others.amax(-1)


@torch.no_grad()
def check(
    model: torch.nn.Module, domain: Domain, *, stop_at_first_wrong: bool = False, batch: int = BATCH
) -> DomainCheck:
    """Run `model` on every row of `domain`; wrong = argmax differs from the target (as certification
    counts it). `stop_at_first_wrong` makes a failing check cheap: put the hardest rows first."""
    n_wrong, checked, low = 0, 0, float("inf")
    for start in range(0, domain.size, batch):
        logits = model(domain.tokens[start : start + batch])
        y = domain.targets[start : start + batch]
        n_wrong += int((logits.argmax(-1) != y).any(-1).sum())
        low = min(low, float(margins(logits, y).min()))
        checked += y.shape[0]
        if n_wrong and stop_at_first_wrong:
            break
    size = domain.size if not domain.sampled else -1
    return DomainCheck(checked, n_wrong, low, checked == domain.size, size)


@torch.no_grad()
def hardest_first(model: torch.nn.Module, domain: Domain, batch: int = BATCH) -> tuple[Domain, DomainCheck]:
    """The same rows, smallest margin first (a change that breaks the circuit usually breaks these),
    and the model's check on them: one pass for both."""
    lows, n_wrong = [], 0
    for start in range(0, domain.size, batch):
        logits = model(domain.tokens[start : start + batch])
        y = domain.targets[start : start + batch]
        lows.append(margins(logits, y).amin(-1))
        n_wrong += int((logits.argmax(-1) != y).any(-1).sum())
    low = torch.cat(lows)
    size = domain.size if not domain.sampled else -1
    result = DomainCheck(domain.size, n_wrong, float(low.min()), True, size)
    return domain.rows(torch.argsort(low), sampled=False), result
