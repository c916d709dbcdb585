"""`circ stdlib build`: train, certify and package the circuits declared in `stdlib/*.circ`.

Each recipe says how to train one declared circuit (its task, model size, optimiser, steps); the
build trains all recipes at once (runs of one shape share a vmap ensemble), certifies each on its
whole domain against the task's reference, registers it in a scratch catalog, and exports that
catalog to the packaged `stdlib/catalog` — so a fresh install runs programs without training.
Seeds are fixed: the same build gives the same weights on the same machine and torch version.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from circ.lang.check import check
from circ.lang.modules import load, stdlib_dir
from circ.lang.scope import Symbol
from circ.learn.catalog import Catalog, CertificateRecord
from circ.learn.data import get_task
from circ.learn.model import ModelConfig, save_weights
from circ.learn.run import OptimConfig, Run
from circ.learn.train import train
from circ.runtime.certify import certify


class RecipeError(Exception):
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
    eval_every: int = 20
    seed: int = 0  # model init and split; fixed, so a build is reproducible

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
            eval_every=self.eval_every,
        )


# catalog name (`learned "…"` in stdlib/*.circ) → how to train it. Circuits without a recipe are
# reported by the build as not yet trained.
RECIPES: dict[str, Recipe] = {
    "color.succ": Recipe("color_succ"),
    "color.add": Recipe("color_add"),
    "color.max": Recipe("color_max"),
    "color.recolor_1_2": Recipe("color_recolor", (("a", 1), ("b", 2))),
}


@dataclass(frozen=True)
class Built:
    name: str
    certificate: CertificateRecord


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
        found[name] = (f"({', '.join(str(t) for _, t in sig.params)}) -> {sig.result}", contract)
    return found


def build(
    out: Path | None = None, only: list[str] | None = None, on_eval: Callable | None = None
) -> tuple[list[Built], list[str]]:
    """Train and certify every recipe (or `only` those); returns the built circuits and the declared
    circuits that have no recipe yet. Writes the packaged catalog to `out` (default: stdlib/catalog)."""
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
                catalog.import_(target)  # a partial build keeps the circuits already shipped
            for name, result in zip(names, results, strict=True):
                task = result.run.build_task()
                weights = root / f"{name}.safetensors"
                save_weights(weights, result.state, result.run.model, {"task": task.key})
                contract = declared[name][1]
                catalog.register_circuit(name, task.signature, contract, task.key, None, weights.read_bytes())
                built.append(Built(name, certify(catalog, name)))
            catalog.export(target)
    return built, sorted(set(declared) - set(RECIPES))
