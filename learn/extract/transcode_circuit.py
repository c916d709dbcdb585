"""`circ extract transcoder`: fit transcoders to a catalogued circuit's MLPs, check the replacement
model on the whole domain, register it when it is a circuit that stays 100%, and label every feature.

Where the replacement can run as a plain circuit (`runtime_form`), it is checked as the
`CircuitTransformer` the catalog stores (d_mlp = d_sae) — the same function as the hooked
replacement, tested to agree in tests/learn/extract — and registered when it is right on every
input; otherwise (cross-layer, or top-k that is not ReLU on this domain) it is checked through hooks
on the original model and the `transcoder` extraction says why it is not a circuit. Labels go in a
`feature_labels` extraction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from circ.lang.errors import ConfigError
from circ.learn.catalog import Catalog, CertificateRecord, CircuitRecord, ExtractionRecord
from circ.learn.data import task_from_key
from circ.learn.extract.domain import DomainCheck, check, whole_domain
from circ.learn.extract.labels import FeatureLabel, label_features
from circ.learn.extract.record import (
    LABELS,
    TRANSCODER,
    Certify,
    certificate_summary,
    json_bytes,
    provenance,
    record_extraction,
    register_child,
    write_atomic,
)
from circ.learn.extract.replacement import as_circuit, circuit_model, replacement_check, runtime_form
from circ.learn.extract.train_transcoder import LayerReport, TrainOptions, measure, train_transcoders
from circ.learn.extract.transcoder import TranscoderConfig, Transcoders


@dataclass(frozen=True)
class TranscoderOptions:
    d_sae: int | None = None  # default: 2 × the circuit's d_mlp
    architecture: str = "standard"
    k: int | None = None
    cross_layer: bool = False
    train: TrainOptions = field(default_factory=TrainOptions)
    name: str | None = None  # default `<parent>.transcoder`
    labels: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "d_sae": self.d_sae,
            "architecture": self.architecture,
            "k": self.k,
            "cross_layer": self.cross_layer,
            "train": self.train.__dict__,
        }


@dataclass(frozen=True)
class TranscoderReport:
    parent: CircuitRecord
    transcoders: Transcoders
    layers: list[LayerReport]
    replacement: DomainCheck  # through hooks: every MLP swapped
    as_circuit: DomainCheck | None  # the runtime form, when it exists
    not_a_circuit: str | None  # why there is no runtime form
    child: CircuitRecord | None
    certificate: CertificateRecord | None
    extraction: ExtractionRecord
    labels: list[FeatureLabel]
    labels_extraction: ExtractionRecord | None
    files: list[Path]


def _check_summary(c: DomainCheck) -> dict[str, Any]:
    return {
        "accuracy": c.accuracy,
        "n_checked": c.n_checked,
        "wrong": c.n_wrong,
        "min_margin": c.min_margin,
        "whole_domain": c.complete and c.n_checked == c.domain_size,
    }


def transcode_circuit(
    catalog: Catalog,
    ref: str,
    options: TranscoderOptions,
    *,
    certify: Certify,
    out: Path | None = None,
    arg_names: list[str] | None = None,
    on_step=None,
) -> TranscoderReport:
    if out is not None:  # first: a bad --out fails before anything is recorded
        out.mkdir(parents=True, exist_ok=True)
    parent = catalog.get(ref)
    task = task_from_key(parent.task)
    domain = whole_domain(task)
    model = catalog.load_model(parent.ref)
    cfg = model.cfg
    if options.cross_layer and cfg.n_layers < 2:
        raise ConfigError(
            "cross_layer", f"{parent.name} has one layer; a cross-layer transcoder needs two or more"
        )
    tcfg = TranscoderConfig(
        cfg.n_layers,
        cfg.d_model,
        options.d_sae or 2 * cfg.d_mlp,
        cfg.d_model,
        options.architecture,
        options.k,
        options.cross_layer,
        cfg.layernorm,
    )
    tc = train_transcoders(model, domain, tcfg, options.train, on_step)
    layers = measure(model, tc, domain)
    reason = runtime_form(tc, max(r.max_positive for r in layers))
    runtime_check = child = cert = None
    if reason is None:
        child_cfg, child_state = as_circuit(model, tc)
        runtime_check = hooked = check(circuit_model(child_cfg, child_state), domain)
        if runtime_check.exact:
            name = options.name or f"{parent.name}.transcoder"
            child, cert, _ = register_child(
                catalog, parent, name, child_cfg, child_state, TRANSCODER, certify
            )
        else:
            reason = (
                f"its replacement is wrong on {runtime_check.n_wrong:,} of {runtime_check.n_checked:,} inputs"
            )
    else:
        hooked = replacement_check(model, tc, domain)
    artefact = tc.to_bytes({"parent": parent.ref, "task": parent.task})
    summary = {
        "architecture": tcfg.architecture,
        "d_sae": tcfg.d_sae,
        "k": tcfg.k,
        "cross_layer": tcfg.cross_layer,
        "hook_names": [tcfg.hook_name(layer) for layer in range(cfg.n_layers)],
        "hook_names_out": [tcfg.hook_name_out(layer) for layer in range(cfg.n_layers)],
        "layers": [r.to_dict() for r in layers],
        "replacement": _check_summary(hooked),
        "replacement_as_circuit": _check_summary(runtime_check) if runtime_check is not None else None,
        "circuit": child.ref if child else None,
        "not_a_circuit": reason if child is None else None,
        "certificate": certificate_summary(cert) if cert else None,
        "provenance": provenance(parent, TRANSCODER, options.to_dict()),
    }
    extraction = record_extraction(catalog, parent, TRANSCODER, artefact, summary)
    files = []
    labels: list[FeatureLabel] = []
    labels_row = None
    if options.labels:
        labels = label_features(model, tc, domain, arg_names)
        artefact_labels = json_bytes([label.to_dict() for label in labels])
        labels_row = record_extraction(
            catalog,
            parent,
            LABELS,
            artefact_labels,
            {
                "transcoder": extraction.id,
                "n_features": len(labels),
                "dead": sum(1 for x in labels if x.fires == 0),
                "exact": sum(1 for x in labels if x.exact and x.fires),
                "labels": [_compact(x) for x in labels if x.fires],
                "provenance": provenance(
                    parent, LABELS, {"transcoder": extraction.id, "arg_names": arg_names}
                ),
            },
        )
    if out is not None:
        stem = options.name or f"{parent.name}.transcoder"
        write_atomic(out / f"{stem}.safetensors", artefact)
        files.append(out / f"{stem}.safetensors")
        if labels:
            write_atomic(out / f"{stem}.labels.json", json_bytes([x.to_dict() for x in labels]))
            files.append(out / f"{stem}.labels.json")
    return TranscoderReport(
        parent, tc, layers, hooked, runtime_check, reason, child, cert, extraction, labels, labels_row, files
    )


def _compact(label: FeatureLabel) -> dict[str, Any]:
    return {
        "layer": label.layer,
        "feature": label.feature,
        "description": label.description,
        "exact": label.exact,
        "agreement": round(label.agreement, 4),
        "fires": label.fires,
        "fourier": label.fourier["text"] if label.fourier else None,
        "top": label.top[:3],
    }
