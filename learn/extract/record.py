"""What extraction leaves in the catalog, with provenance, and how it is read back.

No schema of its own: every artefact is an `extraction` row of the circuit it came from (method,
artefact blob, JSON summary). A pruned circuit, or a transcoder replacement that is still right on its
whole domain, is also registered as a circuit of its own (same signature, contract and task as its
parent), certified by the `certify` callable the caller passes (the CLI passes the runtime's
`certify`, so the certificate is the one `circ catalog certify` would record), and named in the
parent's row. Methods: `prune`, `transcoder`, `feature_labels`, `attribution_graph`, `qk_attribution`.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from circ.circuit.config import ModelConfig
from circ.learn.catalog import Catalog, CatalogError, CertificateRecord, CircuitRecord, ExtractionRecord
from circ.learn.model import weight_bytes

Certify = Callable[[str], CertificateRecord]

PRUNE, TRANSCODER, LABELS, GRAPH, QK = (
    "prune",
    "transcoder",
    "feature_labels",
    "attribution_graph",
    "qk_attribution",
)


def provenance(parent: CircuitRecord, method: str, options: dict[str, Any]) -> dict[str, Any]:
    """Where an artefact came from: the exact parent weights, the method and its options, the code."""
    try:
        version = metadata.version("circ")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        version = "unknown"
    return {
        "parent": parent.ref,
        "parent_weights_sha256": parent.weights_sha256,
        "parent_task": parent.task,
        "method": method,
        "options": options,
        "circ_version": version,
        "torch_version": torch.__version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def weights_bytes(state: dict[str, torch.Tensor], cfg: ModelConfig, extra: dict[str, str]) -> bytes:
    """A circuit's safetensors bytes, as `circ.learn.model.save_weights` writes them (canonical)."""
    return weight_bytes(state, cfg, extra)


def certificate_summary(cert: CertificateRecord) -> dict[str, Any]:
    return {
        "id": cert.id,
        "domain_size": cert.domain_size,
        "n_checked": cert.n_checked,
        "method": cert.method,
        "sampled": cert.sampled,
        "accuracy": cert.accuracy,
        "certified": cert.certified,
        "weights_sha256": cert.weights_sha256,
        "min_margin": cert.min_margin,
    }


def register_child(
    catalog: Catalog,
    parent: CircuitRecord,
    name: str,
    cfg: ModelConfig,
    state: dict[str, torch.Tensor],
    method: str,
    certify: Certify,
) -> tuple[CircuitRecord, CertificateRecord, bytes]:
    """Register a circuit derived from `parent` (its signature, contract, task), then certify it."""
    data = weights_bytes(state, cfg, {"task": parent.task, "parent": parent.ref, "extraction": method})
    child = catalog.register_circuit(name, parent.signature, parent.contract, parent.task, None, data)
    return child, certify(child.ref), data


def record_extraction(
    catalog: Catalog, parent: CircuitRecord, method: str, artefact: bytes, summary: dict[str, Any]
) -> ExtractionRecord:
    """One extraction row on the parent; its circuit is pinned by `name@version`."""
    return catalog.add_extraction(parent.ref, method, artefact, summary)


def latest(catalog: Catalog, ref: str, method: str) -> ExtractionRecord | None:
    rows = [e for e in catalog.extractions(ref) if e.method == method]
    return rows[-1] if rows else None


def find(catalog: Catalog, ref: str, method: str, extraction_id: int | None) -> ExtractionRecord:
    """The `method` extraction `extraction_id` of `ref` (default: its newest), or a clear error."""
    rows = [e for e in catalog.extractions(ref) if e.method == method]
    if extraction_id is not None:
        rows = [e for e in rows if e.id == extraction_id]
        if not rows:
            raise CatalogError(f"circuit {ref!r} has no {method} extraction #{extraction_id}")
    if not rows:
        hint = {TRANSCODER: f"run `circ extract transcoder {ref}` first"}.get(method, "")
        raise CatalogError(f"circuit {ref!r} has no {method} extraction yet" + (f"; {hint}" if hint else ""))
    return rows[-1]


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a uniquely named temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
