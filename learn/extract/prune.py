"""Prune a circuit as far as it stays right on its whole domain.

Stages, each over the model the previous one left: attention heads, then MLP neurons, then (with
`weights=True`) single weights. In a stage the candidates are ordered by score (least important
first, `circ.learn.extract.scores`) and the number removed is binary-searched: the largest k such
that removing the first k keeps every answer of the whole domain right (and the minimum logit margin
at or above `min_margin`). Removing more is not monotone, so a short greedy pass then tries the next
candidates one at a time, within a budget of row evaluations (so a 10^6-input domain gets a few
tries and a 10^4-input one a pass over every unit). Every step is checked on the domain with the
hardest rows first, so a removal that breaks the circuit is usually rejected after one batch; a kept
one costs a full pass.

`ablation="mean"` (the default) folds a removed unit's mean output into biases where that is exact
(`circ.learn.extract.units`); `"zero"` only zeroes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from circ.circuit.config import ModelConfig
from circ.lang.errors import ConfigError
from circ.learn.extract.domain import Domain, DomainCheck, check, hardest_first
from circ.learn.extract.scores import METHODS, Scores, attribution_scores, magnitude_scores
from circ.learn.extract.units import (
    KeepMask,
    Means,
    Size,
    State,
    apply_mask,
    mean_activations,
    prunable_weights,
    size_of,
)
from circ.learn.model import CircuitTransformer

ABLATIONS = ("mean", "zero")
# Row evaluations the greedy pass may spend per stage: two whole passes over a 10^6-input domain
# (~30 s on one CPU thread), a couple of hundred single removals tried on a 10^4-input one.
REFINE_ROWS = 2 * 10**6
MEAN_ROWS = 1 << 16  # means for mean ablation come from a seeded sample: exactness is checked anyway


@dataclass(frozen=True)
class Trial:
    """One checked removal, for progress displays and the record."""

    stage: str  # heads | neurons | weights
    removed: int  # units of this stage removed in this trial
    of: int  # units of this stage there were
    passed: bool
    min_margin: float
    rows_checked: int


OnTrial = Callable[[Trial], None]


@dataclass(frozen=True, eq=False)
class PruneResult:
    cfg: ModelConfig
    state: State  # the pruned weights, same shapes as the parent's
    mask: KeepMask
    before: Size
    after: Size
    base_check: DomainCheck
    final_check: DomainCheck
    scores: Scores  # the last scores each stage ordered by (for faithfulness curves)
    removal_order: list[tuple[str, int, int]]  # (kind, layer, index) of every removed head/neuron, in order
    means: Means | None  # what mean ablation folded in (None: zero ablation)
    trials: list[Trial] = field(default_factory=list)
    by: str = "magnitude"
    ablation: str = "mean"
    weights: bool = False


def _model(cfg: ModelConfig, state: State) -> CircuitTransformer:
    model = CircuitTransformer(cfg)
    model.load_state_dict(state)
    return model.eval()


def prune(
    model: CircuitTransformer,
    domain: Domain,
    *,
    by: str = "magnitude",
    ablation: str = "mean",
    weights: bool = False,
    sparsity: float | None = None,
    min_margin: float = 0.0,
    refine_rows: int = REFINE_ROWS,
    on_trial: OnTrial | None = None,
) -> PruneResult:
    """The most-pruned circuit found that is still exact on `domain` (see the module docstring).

    `sparsity`: the fraction of parameters that must end up zero; a `ConfigError` names it when the
    search cannot get there. `refine_rows`: the greedy pass's budget per stage, in row evaluations."""
    if by not in METHODS:
        raise ConfigError("by", f"must be one of {', '.join(METHODS)}, got {by!r}")
    if ablation not in ABLATIONS:
        raise ConfigError("ablation", f"must be one of {', '.join(ABLATIONS)}, got {ablation!r}")
    if sparsity is not None and not 0.0 <= sparsity < 1.0:
        raise ConfigError(
            "sparsity",
            f"must be in [0, 1): a circuit with no parameters left computes nothing, got {sparsity}",
        )
    if min_margin < 0:
        raise ConfigError("min_margin", f"must be >= 0, got {min_margin}")
    if domain.sampled:
        raise ConfigError("domain", "pruning is checked on the whole domain, not a sample")
    cfg = model.cfg
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    hard, base = hardest_first(model, domain)
    if not base.exact:
        raise ConfigError(
            "circuit",
            f"is wrong on {base.n_wrong:,} of its {base.n_checked:,} inputs; pruning starts from a circuit "
            "that is right on all of them (and keeps it so)",
        )
    trials: list[Trial] = []
    order: list[tuple[str, int, int]] = []

    means = mean_activations(model, domain.sample(MEAN_ROWS).tokens) if ablation == "mean" else None

    def passes(mask: KeepMask, stage: str, removed: int, of: int) -> bool:
        result = check(_model(cfg, apply_mask(state, cfg, mask, means)), hard, stop_at_first_wrong=True)
        ok = result.exact and result.min_margin >= min_margin
        trial = Trial(stage, removed, of, ok, result.min_margin, result.n_checked)
        trials.append(trial)
        if on_trial is not None:
            on_trial(trial)
        return ok

    def score(mask: KeepMask) -> Scores:
        return (
            magnitude_scores(state, cfg)
            if by == "magnitude"
            else attribution_scores(state, cfg, domain, mask)
        )

    mask = KeepMask.full(cfg)
    scores = score(mask)
    for stage in ("heads", "neurons"):
        if stage == "neurons" and by == "attribution":
            scores = score(mask)  # the heads that are left carry more now
        mask, removed = _prune_stage(
            mask, stage, scores, passes, lambda: trials[-1].rows_checked, refine_rows
        )
        order += [(stage[:-1], layer, index) for layer, index in removed]
    if weights:
        weight_scores = score(mask) if by == "attribution" else scores
        mask = _prune_weights(state, cfg, mask, means, weight_scores, passes)
    pruned = apply_mask(state, cfg, mask, means)
    final = check(_model(cfg, pruned), domain)
    after = size_of(pruned, cfg)
    if not final.exact:  # every accepted step was checked on this same domain: this would be a bug
        raise AssertionError("the pruned circuit failed its final whole-domain check")
    if sparsity is not None and after.sparsity < sparsity:
        raise ConfigError(
            "sparsity",
            f"{sparsity:.1%} is out of reach: the sparsest circuit found that stays right on all "
            f"{domain.size:,} inputs has {after.sparsity:.1%} of its parameters zero ({after.nonzero:,} of "
            f"{after.n_params:,} left; pruned by {by}{' with single weights' if weights else ''})",
        )
    before = size_of(state, cfg)
    return PruneResult(
        cfg, pruned, mask, before, after, base, final, scores, order, means, trials, by, ablation, weights
    )


def _prune_stage(
    mask: KeepMask,
    stage: str,
    scores: Scores,
    passes: Callable[[KeepMask, str, int, int], bool],
    last_rows: Callable[[], int],
    refine_rows: int,
) -> tuple[KeepMask, list[tuple[int, int]]]:
    """Binary search, then the greedy pass, over one kind of unit (heads or neurons)."""
    units = mask.live_heads() if stage == "heads" else mask.live_neurons()
    table = scores.heads if stage == "heads" else scores.neurons
    units.sort(key=lambda u: float(table[u].detach()))

    def without(base: KeepMask, gone: list[tuple[int, int]]) -> KeepMask:
        return base.without_heads(gone) if stage == "heads" else base.without_neurons(gone)

    n = len(units)
    k = _largest_passing(n, lambda k: passes(without(mask, units[:k]), stage, k, n))
    removed, kept = units[:k], without(mask, units[:k])
    spent = 0
    for candidate in units[k + 1 :]:  # the boundary unit units[k] just failed
        if spent >= refine_rows:
            break
        trial = without(kept, [candidate])
        if passes(trial, stage, len(removed) + 1, n):
            kept = trial
            removed.append(candidate)
        spent += last_rows()
    return kept, removed


def _largest_passing(n: int, passes: Callable[[int], bool]) -> int:
    """Binary search for the largest k in [0, n] with passes(k), given passes(0)."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if passes(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _prune_weights(
    state: State,
    cfg: ModelConfig,
    mask: KeepMask,
    means: Means | None,
    scores: Scores,
    passes: Callable[..., bool],
) -> KeepMask:
    """Zero the lowest-scored single weights left after structured pruning, one global threshold."""
    live = apply_mask(state, cfg, mask, means)
    names = prunable_weights(cfg)
    assert scores.weights is not None
    flat = torch.cat([scores.weights[n].flatten() for n in names])
    alive = torch.cat([(live[n] != 0).flatten() for n in names])
    candidates = alive.nonzero().flatten()
    candidates = candidates[torch.argsort(flat[candidates], stable=True)]
    sizes = [live[n].numel() for n in names]

    def keep_after(k: int) -> dict[str, torch.Tensor]:
        keep = torch.ones(flat.numel(), dtype=torch.bool)
        keep[candidates[:k]] = False
        return {n: part.reshape(live[n].shape) for n, part in zip(names, keep.split(sizes), strict=True)}

    n = int(candidates.numel())
    k = _largest_passing(n, lambda k: passes(mask.with_weights(keep_after(k)), "weights", k, n))
    return mask.with_weights(keep_after(k))
