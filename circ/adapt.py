"""`adapt_circuit`: specialise a catalogued circuit to a related task, certify it, register it.

The stages: load the parent → LoRA adapters trained until the whole domain is right
(`circ.learn.adapt`, checked here with `circ.verify.certify.certify_model`) → the best seed's merged
weights registered as a new circuit → certified (`circ.verify.certify`, recorded in the catalog) →
the adapter kept as a `lora` extraction on the parent, its summary naming the child, rank, steps,
seeds and certificate; the training run linked to the child.

On a domain too large to enumerate (the 10^25 grids) the stopping check is a seeded sample of 10^5
and the certificate one of 10^6, drawn with different seeds so the certificate is not the sample
the adapter was selected on; the certificate then says `sampled`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from circ.learn.adapt import Adaptation, AdaptOptions, FitEvent, adapt, related_task
from circ.learn.adapt.artefact import adapter_bytes
from circ.learn.adapt.fit import Check
from circ.learn.adapt.lora import peft_config_json
from circ.learn.catalog import Catalog, CatalogError, CertificateRecord, CircuitRecord, ExtractionRecord
from circ.learn.data import distributions as dist
from circ.learn.data.task import Task
from circ.learn.model import CircuitTransformer, weight_bytes
from circ.verify.certify import EXHAUSTIVE_LIMIT, Sampler, certify, certify_model

CHECK_SEED = 1  # the stopping check's sample (large domains); certificates use seed 0
CHECK_SAMPLE = 10**5  # it runs at every evaluation that finds the validation set all right


class AdaptError(CatalogError):
    """No seed reached 100% in the steps given; nothing is registered."""


@dataclass(frozen=True)
class Adapted:
    parent: CircuitRecord
    child: CircuitRecord
    certificate: CertificateRecord
    extraction: ExtractionRecord
    adaptation: Adaptation


def stop_check(task: Task, seed: int = CHECK_SEED, sample: int = CHECK_SAMPLE) -> Check:
    """`certify_model`'s accuracy, run at evaluations: every input of an enumerable domain; for a
    larger one a seeded sample of `sample` draws shared among the task's named input distributions
    (the ones a sampled certificate uses), never the whole-domain bounds proof `certify` tries, which
    may take minutes and would run at every evaluation."""
    distributions: dict[str, Sampler] | None = None
    if task.domain_size > EXHAUSTIVE_LIMIT:
        distributions = {name: partial(_draw, name=name) for name in dist.names_for(task)}

    def check(model: CircuitTransformer) -> float:
        # weights_sha256: the check is not recorded (only its accuracy is read), so no hash is taken
        return certify_model(
            task, model, weights_sha256="", seed=seed, sample=sample, distributions=distributions
        ).accuracy

    return check


def _draw(task: Task, n: int, rng: np.random.Generator, *, name: str) -> list[np.ndarray]:
    return dist.sample(task, name, n, rng)


def percent_down(rate: float) -> str:
    """Rounded down, so a rate short of 1 never reads as 100%."""
    return f"{math.floor(rate * 10_000) / 100:.2f}%"


def default_name(parent: str, task: str) -> str:
    """`mod97.add` + `mod_sub` → `mod97.add.lora.mod_sub`."""
    return f"{parent}.lora.{task}"


def adapt_circuit(
    catalog: Catalog,
    parent_ref: str,
    task_name: str,
    options: AdaptOptions | None = None,
    *,
    name: str | None = None,
    on_eval: Callable[[FitEvent], None] | None = None,
) -> Adapted:
    options = options or AdaptOptions()
    parent = catalog.get(parent_ref)
    task = related_task(parent.task, task_name)
    model: CircuitTransformer = catalog.load_model(parent.ref)  # type: ignore[assignment]
    model.cfg.check_interface(task.interface)

    adaptation = adapt(model, task, options, check=stop_check(task), on_eval=on_eval)
    best = adaptation.best
    if best is None:
        raise AdaptError(
            f"steps: no seed of {len(adaptation.members)} reached 100% on {task.key} within "
            f"{options.fit.steps} steps ({_closest(adaptation)}); "
            "try more --steps, a larger --rank or more --seeds"
        )
    child_name = name or default_name(parent.name, task.name)
    weights = weight_bytes(best.state, model.cfg, {"task": task.key, "parent": parent.ref})
    child = catalog.register_circuit(
        child_name, task.signature, _contract(catalog, task.key), task.key, None, weights
    )
    cert = certify(catalog, child.ref)
    summary = _summary(parent, child, cert, adaptation)
    artefact = adapter_bytes(
        adaptation.adapters[best.index],
        peft_config_json(adaptation.peft_config),
        {"parent": parent.ref, "parent_weights_sha256": parent.weights_sha256, **summary},
    )
    extraction = catalog.add_extraction(parent.ref, "lora", artefact, summary)
    catalog.add_training_run(
        task.key,
        {"method": "lora", **summary},
        best.index,
        status="certified" if cert.certified else ("sampled" if cert.sampled else "uncertified"),
        curves={"step": [r["step"] for r in best.curves], "val_acc": [r["val_acc"] for r in best.curves]},
        circuit=child.ref,
    )
    return Adapted(catalog.get(parent.ref), child, cert, extraction, adaptation)


def _closest(a: Adaptation) -> str:
    """How near the seeds got; the whole-domain check runs only once a validation sample is all right."""
    checked = [acc for m in a.members for _, acc in m.checks]
    if checked:
        return f"best whole-domain check {percent_down(max(checked))}"
    val = [r["val_acc"] for m in a.members for r in m.curves]
    best_val = percent_down(max(val)) if val else "not measured"
    return f"no seed got its validation sample all right; best validation accuracy {best_val}"


def _contract(catalog: Catalog, task_key: str) -> str:
    """The contract a catalogued circuit of the same task declares (mod97.sub's for mod_sub[p=97])."""
    for record in catalog.circuits():
        if record.task == task_key and record.contract:
            return record.contract
    return ""


def _summary(
    parent: CircuitRecord, child: CircuitRecord, cert: CertificateRecord, a: Adaptation
) -> dict[str, Any]:
    best = a.best
    assert best is not None
    return {
        "child": child.ref,
        "parent": parent.ref,
        "task": a.task.key,
        "rank": a.options.lora.rank,
        "alpha": a.options.lora.alpha if a.options.lora.alpha is not None else a.options.lora.rank,
        "targets": list(a.options.lora.targets),
        "steps": best.steps,
        "seed": best.index,
        "seeds": len(a.members),
        "steps_per_seed": [m.steps if m.reached else None for m in a.members],
        "wall_s": round(best.wall_s, 3),
        "lr": a.options.fit.lr,
        "weight_decay": a.options.fit.weight_decay,
        "frac": a.data.frac,
        "n_samples": a.data.n_samples,
        "batch_size": a.data.batch_size,
        "certificate": {
            "accuracy": cert.accuracy,
            "n_checked": cert.n_checked,
            "domain_size": str(cert.domain_size),
            "sampled": cert.sampled,
            "certified": cert.certified,
        },
    }
