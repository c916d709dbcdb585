"""`circ stdlib build`: train, certify and package the circuits declared in `stdlib/*.circ`.

Each recipe says how to train one declared circuit (its task, model size, optimiser, steps); the
build trains all recipes at once (runs of one shape share a vmap ensemble), certifies each on its
whole domain against the task's reference, registers it in a scratch catalog with its mechanism
summary (`circ.learn.analyse`, an `extraction` row), and exports that catalog to the packaged
`stdlib/catalog` — so a fresh install runs programs without training.
Seeds are fixed: the same build gives the same weights on the same machine and torch version.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from circ.circuit.config import ModelConfig
from circ.circuit.signature import format_signature
from circ.lang.check import check
from circ.lang.errors import UserError
from circ.lang.modules import load, stdlib_dir
from circ.lang.scope import Symbol
from circ.learn.analyse.report import analyse
from circ.learn.analyse.sources import from_catalog
from circ.learn.catalog import Catalog, CertificateRecord, export_catalog, import_catalog
from circ.learn.data import get_task, make_split
from circ.learn.data.tokens import split_args
from circ.learn.model import save_weights
from circ.learn.run import OptimConfig, Run
from circ.learn.train import train
from circ.verify.certify import certify


class RecipeError(UserError):
    """A recipe that does not match its circuit's declaration."""


@dataclass(frozen=True)
class Recipe:
    task: str
    params: tuple[tuple[str, int], ...] = ()
    d_model: int = 32
    n_heads: int = 2
    d_mlp: int = 64
    n_layers: int = 1
    encoder: bool = False  # full attention (outputs that read later inputs) instead of causal
    lr: float = 1e-2
    weight_decay: float = 0.1
    batch_size: int | None = None  # None: full batch
    steps: int = 1500
    frac: float = 1.0  # tiny domains train whole; certification is what proves them
    n_samples: int | None = None  # sample pool for domains too big to enumerate
    target_acc: float | None = 1.0  # stop at this val accuracy; None trains every step
    cleanup_window: int | None = None  # Mod[p]: after target_acc, train on until clean-up is over
    eval_every: int = 20
    seed: int = 0  # model init and split; fixed, so a build is reproducible
    mixture: str | None = None  # training inputs from `circ.learn.data.distributions.MIXTURES`
    margin: float = 0.0  # target logit margin of the training loss (see `circ.learn.run.Run`)

    def run(self) -> Run:
        task = get_task(self.task, **dict(self.params))
        config = ModelConfig.for_interface(
            task.interface,
            d_model=self.d_model,
            n_heads=self.n_heads,
            d_mlp=self.d_mlp,
            n_layers=self.n_layers,
            causal=not self.encoder,
        )
        optim = OptimConfig(lr=self.lr, weight_decay=self.weight_decay, batch_size=self.batch_size)
        return Run(
            task=self.task,
            params=self.params,
            model=config,
            optim=optim,
            seed=self.seed,
            steps=self.steps,
            frac=self.frac,
            n_samples=self.n_samples,
            target_acc=self.target_acc,
            cleanup_window=self.cleanup_window,
            eval_every=self.eval_every,
            mixture=self.mixture,
            margin=self.margin,
        )


# Mod[97] binary circuits grok: trained on half the table, certified on all of it (the CPU recipe of
# `circ train`: d_model 64, lr 1e-2, weight decay 1, full batch; benchmarks/RESULTS.md has the sweep).
# They train through clean-up: stopped at the first 100% val (step 150 for add) the embedding still
# needed 24 of 48 frequencies for 90% of its energy; 300 steps later it needs 4.
_MOD97 = dict(
    params=(("p", 97),),
    d_model=64,
    n_heads=4,
    d_mlp=256,
    weight_decay=1.0,
    steps=3000,
    frac=0.5,
    cleanup_window=300,
)
# Seq[Color, 6] circuits learn from 90k sampled sequences and are certified on all 10^6.
_SEQ6 = dict(
    params=(("n", 6),),
    d_model=64,
    n_heads=4,
    d_mlp=128,
    batch_size=512,
    steps=3000,
    frac=0.9,
    n_samples=100_000,
    eval_every=100,
)
# Grid[5, 5] circuits (50 positions) learn from 40k grids of the "arc" mixture (uniform, sparse on
# background 0, constant, one odd cell, two-colour, patterns: circ.learn.data.distributions) and are
# proved on all 10^25 inputs by bounds (circ.verify.bounds). Trained on uniform grids only (1500
# steps), dmirror was wrong on 9.9% of one-cell grids and the prover found one-odd-cell
# counterexamples; on the mixture 400 steps give proofs with margins >= 1 (benchmarks/RESULTS.md).
_GRID5 = dict(
    d_model=32,
    n_heads=2,
    d_mlp=64,
    batch_size=256,
    steps=400,
    frac=0.8,
    n_samples=50_000,
    mixture="arc",
    eval_every=100,
    target_acc=None,
)
_5x5 = (("h", 5), ("w", 5))

# catalog name (`learned "…"` in stdlib/*.circ) → how to train it. Circuits without a recipe are
# reported by the build as not yet trained. Not shipped, because no recipe has reached 100% on the
# whole domain yet: seq6.sort (d_model 128, d_mlp 256, 1 layer; measured 2026-11-25: 5 wrong of 10^6,
# one 8 among five 9s, stopped at 100% of a 10k validation sample; 2026-12-01, fixed steps: 1500 on
# the "arc" mixture 3 wrong ([8, 9, 0, 9, 9, 9] and two shifts), 2000 on "seq" with margin 1.0 763
# wrong, 2500 on "arc" 62,347 wrong — lr 1e-2 is too high for it), seq6.cumsum (0% of whole
# sequences right after 500 steps of a 2-layer d_model 128 model) and seq6.parity (chance, 48.5%,
# after 4k steps).
RECIPES: dict[str, Recipe] = {
    "color.succ": Recipe("color_succ"),
    "color.pred": Recipe("color_pred"),
    "color.add": Recipe("color_add"),
    "color.max": Recipe("color_max"),
    "color.eq": Recipe("color_eq"),
    "color.min": Recipe("color_min"),
    "color.recolor_1_2": Recipe("color_recolor", (("a", 1), ("b", 2))),
    "color.is_background": Recipe("color_is_zero"),
    "bool.not": Recipe("bool_not"),
    "bool.and": Recipe("bool_and"),
    "bool.or": Recipe("bool_or"),
    "mod97.add": Recipe("mod_add", **_MOD97),
    # seed 0 of sub plateaus near 90% at lr 1e-2; seed 2 groks by step 400 (1 of 4 seeds within 3k steps)
    "mod97.sub": Recipe("mod_sub", **_MOD97, seed=2),
    "mod97.mul": Recipe("mod_mul", **_MOD97),
    "mod97.div": Recipe("mod_div", **_MOD97),
    # not a Fourier circuit (its embedding is a function of a², spread over every even discrete-log
    # frequency) whose spectrum keeps creeping: trained through to the 3000-step cap it ended 1 wrong
    # of 9,409 (measured 2026-12-01), so it stops at its first 100% val, as before
    "mod97.sum_squares": Recipe("mod_square_sum", **{**_MOD97, "cleanup_window": None}),
    # unary: 97 inputs, too few to hold any out; trained on all, certified on all
    "mod97.square": Recipe("mod_square", (("p", 97),), d_model=64, n_heads=4, d_mlp=256, steps=2000),
    "mod97.neg": Recipe("mod_neg", (("p", 97),), d_model=64, n_heads=4, d_mlp=256, steps=2000),
    "mod97.inc": Recipe("mod_inc", (("p", 97),), d_model=64, n_heads=4, d_mlp=256, steps=2000),
    "mod97.is_zero": Recipe("mod_is_zero", (("p", 97),), d_model=32, steps=1000),
    "seq6.reverse": Recipe("seq_reverse", **_SEQ6),
    "seq6.rotate_left": Recipe("seq_rotate_left", **_SEQ6),
    "seq6.successor": Recipe("seq_succ", **_SEQ6),
    "seq6.rotate_right": Recipe("seq_rotate_right", **_SEQ6),
    "seq6.predecessor": Recipe("seq_pred", **_SEQ6),
    "seq6.shift_left": Recipe("seq_shift_left", **_SEQ6),
    "seq6.shift_right": Recipe("seq_shift_right", **_SEQ6),
    # max/min/sort erred only on extreme inputs (all 0, all 9, one 8 among 9s): the arc mixture
    # (constant, one odd cell, sparse) holds them; a fixed number of steps, as a 10k validation
    # sample reads 100% before the domain does
    "seq6.max": Recipe("seq_max", **{**_SEQ6, "target_acc": None, "steps": 1500}, mixture="arc"),
    "seq6.min": Recipe("seq_min", **{**_SEQ6, "target_acc": None, "steps": 2000}, mixture="seq", margin=1.0),
    "grid5.rot90": Recipe("grid_rot90", _5x5, **_GRID5),
    "grid5.rot270": Recipe("grid_rot270", _5x5, **_GRID5),
    "grid5.rot180": Recipe("grid_rot180", _5x5, **_GRID5),
    "grid5.hmirror": Recipe("grid_hmirror", _5x5, **_GRID5),
    "grid5.vmirror": Recipe("grid_vmirror", _5x5, **_GRID5),
    "grid5.dmirror": Recipe("grid_dmirror", _5x5, **_GRID5),
    "grid5.recolor_1_2": Recipe("grid_recolor", (*_5x5, ("a", 1), ("b", 2)), **_GRID5),
}


@dataclass(frozen=True)
class Built:
    name: str
    certificate: CertificateRecord
    steps: int | None = None  # optimiser steps it trained
    mechanism: str | None = None  # the analysis' headline, stored as an extraction


def declarations() -> dict[str, tuple[Symbol, str]]:
    """Catalog name → (the circuit's checked symbol, its module's source), over every stdlib module."""
    found = {}
    for path in sorted(stdlib_dir().glob("*.circ")):
        checked = check(load(path))
        text = checked.program.sources[checked.program.root]
        for symbol in checked.symbols(checked.program.root):
            if symbol.kind == "circuit":
                found[symbol.decl.learned] = (symbol, text)
    return found


def declared_circuits() -> dict[str, tuple[str, str]]:
    """Catalog name → (signature, contract as written), over every stdlib module."""
    found = {}
    for name, (symbol, text) in declarations().items():
        sig = symbol.signature
        contract = "; ".join(f"{c.kind} {c.expr.span.excerpt(text)}" for c in symbol.decl.contracts)
        found[name] = (format_signature((t for _, t in sig.params), sig.result), contract)
    return found


def _training_inputs(run: Run) -> list[np.ndarray] | None:
    """The raw inputs a sampled recipe trained and validated on, which its certificate must not reuse."""
    task = run.build_task()
    split = make_split(task, run.frac, run.split_seed, run.n_samples)
    if split.exhaustive:
        return None  # certified on its whole domain: nothing to keep out
    tokens = torch.cat([split.train_x, split.val_x]).numpy()
    return split_args(task.interface, tokens)


def _record_mechanism(catalog: Catalog, name: str, scratch: Path) -> str:
    """Analyse the circuit just registered and store the summary with it (method, JSON artefact)."""
    report = analyse(from_catalog(catalog, name), scratch / "analysis" / name)
    summary = report.catalog_summary() | {"tool": "circ stdlib build"}
    catalog.add_extraction(name, report.method, report.artefact(), summary)
    return report.headline


def build(
    out: Path | None = None,
    only: list[str] | None = None,
    on_eval: Callable | None = None,
    on_built: Callable[[Built], None] | None = None,
) -> tuple[list[Built], list[str]]:
    """Train and certify every recipe (or `only` those); returns the built circuits and the declared
    circuits that have no recipe yet. Writes the packaged catalog to `out` (default: stdlib/catalog).
    `on_built` hears of each circuit as soon as it is certified (certifying all takes minutes)."""
    declared = declared_circuits()
    unknown = [n for n in only or () if n not in RECIPES]
    if unknown:
        raise RecipeError(f"no recipe for {unknown[0]} (recipes: {', '.join(RECIPES)})")
    names = list(only or RECIPES)
    runs = []
    for name in names:
        recipe = RECIPES[name]
        task = get_task(recipe.task, **dict(recipe.params))
        declared_signature = declared.get(name, ("not declared in stdlib/*.circ", ""))[0]
        if task.signature != declared_signature:
            raise RecipeError(
                f"recipe {name}: task {task.key} is {task.signature}, declared {declared_signature}"
            )
        runs.append(recipe.run())
    results = train(runs, on_eval=on_eval)
    built = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        target = out or stdlib_dir() / "catalog"
        with Catalog(f"sqlite:///{root / 'build.db'}", root / "blobs") as catalog:
            if only and (target / "manifest.json").exists():
                import_catalog(catalog, target)  # a partial build keeps the circuits already shipped
            for name, result in zip(names, results, strict=True):
                task = result.run.build_task()
                weights = root / f"{name}.safetensors"
                save_weights(weights, result.state, result.run.model, {"task": task.key})
                contract = declared[name][1]
                catalog.register_circuit(name, task.signature, contract, task.key, None, weights.read_bytes())
                certificate = certify(catalog, name, training=_training_inputs(result.run))
                built.append(Built(name, certificate, result.steps, _record_mechanism(catalog, name, root)))
                if on_built is not None:
                    on_built(built[-1])
            export_catalog(catalog, target)
    return built, sorted(set(declared) - set(RECIPES))


def recertify(
    out: Path | None = None,
    only: list[str] | None = None,
    on_built: Callable[[Built], None] | None = None,
    precision: str = "fp32",
) -> list[Built]:
    """Certify the shipped circuits again without retraining (after the certifier changed, to bind
    old certificates to their weights, or in another precision), each by the strongest method that
    closes (exhaustive, bounds, sampled), and write the packaged catalog back."""
    target = out or stdlib_dir() / "catalog"
    built = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with Catalog(f"sqlite:///{root / 'certify.db'}", root / "blobs") as catalog:
            import_catalog(catalog, target)
            names = [r.name for r in catalog.circuits() if only is None or r.name in only]
            unknown = sorted(set(only or ()) - set(names))
            if unknown:
                raise RecipeError(f"not shipped: {', '.join(unknown)}")
            for name in names:
                recipe = RECIPES.get(name)
                training = _training_inputs(recipe.run()) if recipe is not None else None
                certificate = certify(catalog, name, precision=precision, training=training)
                built.append(Built(name, certificate, 0, ""))
                if on_built is not None:
                    on_built(built[-1])
            export_catalog(catalog, target)
    return built
