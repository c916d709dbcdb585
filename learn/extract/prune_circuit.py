"""`circ extract prune`: prune a catalogued circuit, register the result, link it, measure it.

Steps: load the circuit and its task's whole domain; `prune` (every step checked on every input);
register the pruned weights as a new circuit (default name `<parent>.pruned`), certified by the
caller's `certify`; measure faithfulness curves under zero and mean ablation; write the artefacts to
`out`; record a `prune` extraction on the parent naming the child, its sparsity, parameter counts,
margins, certificate and curves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from circ.learn.catalog import Catalog, CertificateRecord, CircuitRecord, ExtractionRecord
from circ.learn.data import task_from_key
from circ.learn.extract.domain import whole_domain
from circ.learn.extract.faithfulness import Curve, Unit, plot_curves, unit_curve
from circ.learn.extract.prune import OnTrial, PruneResult, prune
from circ.learn.extract.record import (
    PRUNE,
    Certify,
    certificate_summary,
    provenance,
    record_extraction,
    register_child,
    write_atomic,
)
from circ.learn.extract.units import mean_activations

FAITHFULNESS_ROWS = 1 << 13  # rows the curves average over (a seeded sample of bigger domains)


@dataclass(frozen=True)
class PruneOptions:
    by: str = "magnitude"
    ablation: str = "mean"
    weights: bool = False
    sparsity: float | None = None
    min_margin: float = 0.0
    name: str | None = None  # default `<parent>.pruned`

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "name"}


@dataclass(frozen=True)
class PruneReport:
    parent: CircuitRecord
    child: CircuitRecord
    certificate: CertificateRecord
    extraction: ExtractionRecord
    result: PruneResult
    curves: dict[str, Curve]
    files: list[Path] = field(default_factory=list)


def unit_order(result: PruneResult) -> list[Unit]:
    """Every head and neuron, most important first: the kept ones (heads, then neurons by score), then
    the removed ones in reverse order of removal (the last removed was the hardest to remove)."""
    kept: list[Unit] = [("head", layer, h) for layer, h in result.mask.live_heads()]
    neurons = result.mask.live_neurons()
    neurons.sort(key=lambda u: -float(result.scores.neurons[u]))
    kept += [("neuron", layer, n) for layer, n in neurons]
    return kept + list(reversed(result.removal_order))


def prune_circuit(
    catalog: Catalog,
    ref: str,
    options: PruneOptions,
    *,
    certify: Certify,
    out: Path | None = None,
    on_trial: OnTrial | None = None,
) -> PruneReport:
    if out is not None:  # first: a bad --out fails before anything is recorded
        out.mkdir(parents=True, exist_ok=True)
    parent = catalog.get(ref)
    domain = whole_domain(task_from_key(parent.task))
    model = catalog.load_model(parent.ref)
    result = prune(
        model,
        domain,
        by=options.by,
        ablation=options.ablation,
        weights=options.weights,
        sparsity=options.sparsity,
        min_margin=options.min_margin,
        on_trial=on_trial,
    )
    child, cert, data = register_child(
        catalog, parent, options.name or f"{parent.name}.pruned", result.cfg, result.state, PRUNE, certify
    )
    sample = domain.sample(FAITHFULNESS_ROWS)
    order = unit_order(result)
    kept = len(result.mask.live_heads()) + len(result.mask.live_neurons())
    mark = kept / len(order)
    means = result.means if result.means is not None else mean_activations(model, sample.tokens)
    curves = {
        ablation: unit_curve(model, sample, order, ablation, means, mark) for ablation in ("zero", "mean")
    }
    files = []
    if out is not None:
        weights = out / f"{child.name}.safetensors"
        write_atomic(weights, data)
        plot = out / f"{child.name}.faithfulness.png"
        plot_curves(curves, plot, f"{parent.name}: heads and neurons kept (pruning order)", mark)
        files += [weights, plot]
    summary = {
        "child": child.ref,
        "by": result.by,
        "ablation": result.ablation,
        "weights": result.weights,
        "min_margin_required": options.min_margin,
        "sparsity": round(result.after.sparsity, 6),
        "before": result.before.to_dict() | {"min_margin": result.base_check.min_margin},
        "after": result.after.to_dict() | {"min_margin": result.final_check.min_margin},
        "domain_size": domain.size,
        "trials": len(result.trials),
        "certificate": certificate_summary(cert),
        "faithfulness": {k: c.to_dict() for k, c in curves.items()} | {"circuit_fraction": round(mark, 6)},
        "provenance": provenance(parent, PRUNE, options.to_dict() | {"name": child.name}),
    }
    extraction = record_extraction(catalog, parent, PRUNE, data, summary)
    return PruneReport(parent, child, cert, extraction, result, curves, files)
