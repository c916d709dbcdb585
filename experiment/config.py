"""The experiment's settings: the full protocol, and the reduced one that fits a shared 2-core CPU.

Each domain trains its monolith the way its circuits were trained (the stdlib recipes in
`circ.stdlib_build`): the same optimiser, batch size and input distribution, with at least the
circuits' steps and training examples where the CPU allows it (`QUICK` says where it does not).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from circ.lang.errors import ConfigError


@dataclass(frozen=True)
class Training:
    """How one domain's monoliths train (AdamW; `circ.learn.run.Run` fields)."""

    steps: int
    batch_size: int
    lr: float
    weight_decay: float
    pool: int  # training examples drawn; a domain of at most 2·pool inputs trains on half of it
    val: int  # validation examples (training curves and the early stop)
    target_acc: float | None  # stop a seed at this validation accuracy
    eval_every: int
    mixture: str | None = None  # a `circ.learn.data.distributions.MIXTURES` entry
    n_layers: int | None = None  # None: the circuits' own depth (1 for every stdlib circuit)


@dataclass(frozen=True)
class ExperimentConfig:
    name: str
    mod_depths: tuple[int, ...]
    grid_depths: tuple[int, ...]
    train_length: int  # n: the folds' monoliths train at n and are tested up to 4n
    length_factors: tuple[int, ...]  # tested at these multiples of n
    folds: tuple[str, ...]
    seeds: tuple[int, ...]
    budget_factors: tuple[int, ...]
    mod: Training
    grid: Training
    fold: Training
    test_sample: int  # held-out inputs per point when its domain cannot be listed (Mod, uniform grids)
    test_per_distribution: int  # grids, per named low-entropy distribution (its whole support if smaller)
    test_fold: int  # sequences per length
    list_domain: int  # list (rather than sample) a domain of at most this many inputs
    verify_examples: int  # `circ verify` property-test inputs per function

    def __post_init__(self) -> None:
        for name in ("mod_depths", "grid_depths", "length_factors", "seeds", "budget_factors"):
            values = getattr(self, name)
            if not values or any(not isinstance(v, int) or v < (0 if name == "seeds" else 1) for v in values):
                kind = "non-negative" if name == "seeds" else "positive"
                raise ConfigError(name, f"must be a non-empty list of {kind} integers, got {values!r}")
        if 4 * self.train_length > 64:
            raise ConfigError("train_length", f"4·n must be at most 64, got n = {self.train_length}")

    def with_options(self, **changes: object) -> ExperimentConfig:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


# The circuits' recipes: Mod[97] d_model 64, lr 1e-2, wd 1, full batch of half the table (4,704),
# stopped after clean-up (640 and 740 steps for add and mul, benchmarks/RESULTS.md; cap 3,000);
# Grid[5, 5] 400 steps of batch 256 on 40,000 grids of the `arc` mixture, lr 1e-2, wd 0.1;
# colour cells all 100 inputs, lr 1e-2, wd 0.1, up to 1,500 steps.
FULL = ExperimentConfig(
    name="full",
    mod_depths=(1, 2, 3, 4, 5, 6, 7, 8),
    grid_depths=(1, 2, 3, 4, 5, 6, 7, 8),
    train_length=8,
    length_factors=(1, 2, 3, 4),
    folds=("max", "sum"),
    seeds=(0, 1, 2, 3),
    budget_factors=(1, 4),
    mod=Training(3000, 512, 1e-2, 1.0, 100_000, 5_000, 1.0, 100),
    grid=Training(1500, 256, 1e-2, 0.1, 200_000, 10_000, None, 250, mixture="arc"),
    fold=Training(3000, 256, 1e-2, 0.1, 100_000, 5_000, 1.0, 100),
    test_sample=100_000,
    test_per_distribution=20_000,
    test_fold=20_000,
    list_domain=1_000_000,
    verify_examples=100,
)

# Four depths, two seeds, n = 6, the circuits' steps (Mod: 800 ≥ the 740 mul took; grids: 400, as
# theirs) but smaller pools and test samples. Measured: 23 min of CPU time on one thread (52 min wall
# on the shared 2-core machine at load average ~9; benchmarks/RESULTS.md).
QUICK = ExperimentConfig(
    name="quick",
    mod_depths=(1, 2, 4, 8),
    grid_depths=(1, 2, 4, 8),
    train_length=6,
    length_factors=(1, 2, 3, 4),
    folds=("max", "sum"),
    seeds=(0, 1),
    budget_factors=(1, 4),
    mod=Training(800, 512, 1e-2, 1.0, 20_000, 2_000, 1.0, 100),
    grid=Training(400, 256, 1e-2, 0.1, 40_000, 2_000, None, 400, mixture="arc"),
    fold=Training(1500, 256, 1e-2, 0.1, 20_000, 2_000, 1.0, 100),
    test_sample=20_000,
    test_per_distribution=1_000,
    test_fold=5_000,
    list_domain=1_000_000,
    verify_examples=20,
)

# For tests: seconds, not minutes.
TINY = ExperimentConfig(
    name="tiny",
    mod_depths=(1, 2),
    grid_depths=(1, 2),
    train_length=2,
    length_factors=(1, 2),
    folds=("max",),
    seeds=(0, 1),
    budget_factors=(1, 4),
    mod=Training(6, 256, 1e-2, 1.0, 1_000, 200, None, 3),
    grid=Training(3, 64, 1e-2, 0.1, 500, 100, None, 3, mixture="arc"),
    fold=Training(6, 64, 1e-2, 0.1, 500, 100, None, 3),
    test_sample=500,
    test_per_distribution=50,
    test_fold=300,
    list_domain=10_000,
    verify_examples=5,
)

PRESETS = {c.name: c for c in (QUICK, FULL, TINY)}
