"""`circ extract graph`: the attribution graph of a catalogued circuit on one input.

Uses the circuit's newest `transcoder` extraction (or the one named), which must have been trained
on these very weights (its provenance says which). Computes the exact graph, prunes it as
circuit-tracer does, labels features with their `feature_labels` descriptions, writes the graph JSON
(with circuit-tracer's `graph-metadata.json` beside it), a PNG and an SVG, the exact QK attributions,
and the faithfulness of keeping the top-k features; records `attribution_graph` and
`qk_attribution` extractions on the circuit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from circ.lang import layout
from circ.lang.errors import ConfigError
from circ.learn.catalog import Catalog, CatalogError, CircuitRecord, ExtractionRecord
from circ.learn.data import task_from_key
from circ.learn.data.tokens import encode_inputs
from circ.learn.extract.attribution import FEATURE, Attribution, attribute
from circ.learn.extract.domain import whole_domain
from circ.learn.extract.faithfulness import Curve, feature_means, graph_curve, plot_curves
from circ.learn.extract.graph import Pruned, graph_scores, prune_graph
from circ.learn.extract.graph_json import check_graph_json, graph_json
from circ.learn.extract.graph_plot import plot_graph
from circ.learn.extract.qk import HeadQK, qk_attributions
from circ.learn.extract.record import (
    GRAPH,
    LABELS,
    QK,
    TRANSCODER,
    find,
    json_bytes,
    provenance,
    record_extraction,
    write_atomic,
)
from circ.learn.extract.transcoder import Transcoders

MEAN_ROWS = 1 << 13  # rows the features' means (for mean ablation) come from


@dataclass(frozen=True)
class GraphOptions:
    node_threshold: float = 0.8
    edge_threshold: float = 0.98
    max_n_logits: int = 10
    desired_logit_prob: float = 0.95
    transcoder: int | None = None  # extraction id; default the newest


@dataclass(frozen=True)
class GraphReport:
    circuit: CircuitRecord
    input_text: str
    attribution: Attribution
    pruned: Pruned
    replacement_score: float
    completeness_score: float
    graph: dict[str, Any]
    qk: list[HeadQK]
    curves: dict[str, Curve]
    extraction: ExtractionRecord
    qk_extraction: ExtractionRecord
    files: list[Path]


def encode_input(task, values: list[object]) -> torch.Tensor:
    """Argument values (already checked against their types) → the circuit's tokens [n_positions]."""
    pairs = zip(task.arg_types, values, strict=True)
    args = [np.array([layout.flatten(t, v)], dtype=np.int64) for t, v in pairs]
    return torch.from_numpy(encode_inputs(task.interface, args)[0])


def load_transcoders(catalog: Catalog, record: CircuitRecord, extraction: ExtractionRecord) -> Transcoders:
    tc, meta = Transcoders.from_bytes(catalog.load_artefact(extraction))
    trained_on = extraction.summary.get("provenance", {}).get("parent_weights_sha256")
    if trained_on != record.weights_sha256:
        raise CatalogError(
            f"transcoder extraction #{extraction.id} was trained on weights {str(trained_on)[:12]}…, "
            f"not {record.ref}'s ({record.weights_sha256[:12]}…)"
        )
    del meta
    return tc


def _clerps(catalog: Catalog, ref: str, transcoder_id: int) -> dict[tuple[int, int], str]:
    rows = [
        e
        for e in catalog.extractions(ref)
        if e.method == LABELS and e.summary.get("transcoder") == transcoder_id
    ]
    if not rows:
        return {}
    labels = json.loads(catalog.load_artefact(rows[-1]))
    return {
        (x["layer"], x["feature"]): x["description"]
        + (f"; {x['fourier']['text']}" if x.get("fourier") else "")
        for x in labels
    }


def graph_circuit(
    catalog: Catalog, ref: str, values: list[object], options: GraphOptions = GraphOptions(), *, out: Path
) -> GraphReport:
    for name in ("node_threshold", "edge_threshold", "desired_logit_prob"):
        value = getattr(options, name)
        if not 0.0 <= value <= 1.0:
            raise ConfigError(name, f"must be between 0 and 1, got {value}")
    if options.max_n_logits < 1:
        raise ConfigError("max_n_logits", f"must be at least 1, got {options.max_n_logits}")
    out.mkdir(parents=True, exist_ok=True)  # first: a bad --out fails before anything is recorded
    record = catalog.get(ref)
    task = task_from_key(record.task)
    model = catalog.load_model(record.ref)
    tc_row = find(catalog, record.ref, TRANSCODER, options.transcoder)
    tc = load_transcoders(catalog, record, tc_row)
    tokens = encode_input(task, values)
    input_text = "(" + ", ".join(layout.format_value(v) for v in values) + ")"
    att = attribute(
        model,
        tc,
        task,
        tokens,
        max_n_logits=options.max_n_logits,
        desired_logit_prob=options.desired_logit_prob,
    )
    pruned = prune_graph(att, options.node_threshold, options.edge_threshold)
    replacement, completeness = graph_scores(att)
    clerps = _clerps(catalog, record.ref, tc_row.id)
    plain = "-".join(layout.format_value(v) for v in values)
    slug = record.name + "-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", plain).strip("-")
    info = {
        "circuit": record.ref,
        "task": record.task,
        "transcoder_extraction": tc_row.id,
        "replacement_score": replacement,
        "completeness_score": completeness,
        "edge_threshold": options.edge_threshold,
        "generator": "circ extract graph",
    }
    data = graph_json(
        att,
        pruned,
        slug=slug,
        scan=record.ref,
        prompt=f"{record.name}{input_text}",
        node_threshold=options.node_threshold,
        clerps=clerps,
        info=info,
    )
    check_graph_json(data)
    qk = qk_attributions(model, att)
    features = [i for i, n in enumerate(att.nodes) if n.kind == FEATURE]
    order = sorted(features, key=lambda i: -float(pruned.influence[i]))
    means = feature_means(model, tc, whole_domain(task).sample(MEAN_ROWS))
    curves = {a: graph_curve(model, tc, att, order, a, means) for a in ("zero", "mean")}

    graph_path = out / f"{slug}.json"
    write_atomic(graph_path, json.dumps(data, indent=1).encode())
    meta_path = out / "graph-metadata.json"
    _add_graph_metadata(meta_path, data["metadata"])
    pictures = [out / f"{slug}.png", out / f"{slug}.svg"]
    title = f"{record.ref} on {input_text}: replacement {replacement:.3f}, completeness {completeness:.3f}"
    plot_graph(att, pruned, pictures, title)
    qk_path = out / f"{slug}.qk.json"
    qk_data = [h.to_dict() for h in qk]
    write_atomic(qk_path, json.dumps(qk_data, indent=1).encode())
    curve_path = out / f"{slug}.faithfulness.png"
    plot_curves(curves, curve_path, f"{record.name}{input_text}: top-k features kept (by influence)")

    summary = {
        "input": input_text,
        "slug": slug,
        "transcoder": tc_row.id,
        "replacement_score": round(replacement, 6),
        "completeness_score": round(completeness, 6),
        "nodes": len(data["nodes"]),
        "links": len(data["links"]),
        "active_features": len(features),
        "node_threshold": options.node_threshold,
        "edge_threshold": options.edge_threshold,
        "faithfulness": {k: c.to_dict() for k, c in curves.items()},
        "provenance": provenance(record, GRAPH, options.__dict__ | {"input": input_text}),
    }
    extraction = record_extraction(catalog, record, GRAPH, json_bytes(data), summary)
    qk_row = record_extraction(
        catalog,
        record,
        QK,
        json_bytes(qk_data),
        {
            "input": input_text,
            "graph": extraction.id,
            "heads": len(qk),
            "provenance": provenance(record, QK, {"input": input_text}),
        },
    )
    files = [graph_path, meta_path, *pictures, qk_path, curve_path]
    return GraphReport(
        record,
        input_text,
        att,
        pruned,
        replacement,
        completeness,
        data,
        qk,
        curves,
        extraction,
        qk_row,
        files,
    )


def _add_graph_metadata(path: Path, metadata: dict[str, Any]) -> None:
    """circuit-tracer's local server lists the graphs of a directory from `graph-metadata.json`."""
    graphs = []
    if path.exists():
        try:
            graphs = json.loads(path.read_text()).get("graphs", [])
        except (ValueError, AttributeError):
            graphs = []
    graphs = [g for g in graphs if g.get("slug") != metadata["slug"]] + [
        {k: v for k, v in metadata.items() if k != "info"}
    ]
    write_atomic(path, json.dumps({"graphs": graphs}, indent=1).encode())
