"""The catalog exchange format, which is also how the stdlib ships trained circuits.

A directory holding `manifest.json` and a `blobs/` `BlobStore` (sha256-named safetensors):

    {"format": "circ.catalog/1",
     "circuits": [{"name", "version", "signature", "contract", "task", "config", "weights_sha256",
                   "n_params", "created", "certificates": [{"method", "domain_size", "n_checked",
                   "accuracy", "weights_sha256", "precision", "backend", "min_margin", "seconds",
                   "samples", "uncovered", "counterexamples", "created"}, …],
                   "extractions": [{"method", "artefact_sha256", "summary", "created"}, …]}, …]}

A manifest from before certificates were bound to their weights (no "method") is read as such: its
certificates hold for the entry's own weights in fp32 on torch, and its samples carry no bound.
Every entry and certificate is checked as it is read (types, ranges, one entry per name@version).

`extractions` (mechanism summaries and other analysis artefacts, their blobs beside the weights) is
optional and written only for a circuit that has some, so a catalog without any reads as before.

Written sorted and indented, so a change to the shipped catalog reads as a small diff. A
`PackagedCatalog` reads one such directory and never writes to it (it may be a read-only install).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from circ.learn.catalog.binding import load_model
from circ.learn.catalog.certificates import CertificateRecord, samples_from_json
from circ.learn.catalog.certificates import check as check_certification
from circ.learn.catalog.records import (
    CatalogError,
    CircuitRecord,
    ExtractionRecord,
    UnknownCircuitError,
    aware,
    parse_ref,
)
from circ.learn.store import BlobStore

if TYPE_CHECKING:
    from torch import nn

FORMAT = "circ.catalog/1"
MANIFEST = "manifest.json"
BLOBS = "blobs"


@dataclass(frozen=True)
class Manifest:
    circuits: tuple[CircuitRecord, ...]
    certificates: tuple[CertificateRecord, ...]
    extractions: tuple[ExtractionRecord, ...] = ()

    def certificates_of(self, circuit: CircuitRecord) -> list[CertificateRecord]:
        """Oldest first, as the database returns them."""
        return [c for c in self.certificates if (c.circuit, c.version) == (circuit.name, circuit.version)]

    def extractions_of(self, circuit: CircuitRecord) -> list[ExtractionRecord]:
        return [e for e in self.extractions if (e.circuit, e.version) == (circuit.name, circuit.version)]


def read_manifest(directory: Path, source: str) -> Manifest:
    """The manifest in `directory` (empty when there is none); a malformed one names its file and field."""
    path = directory / MANIFEST
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Manifest((), ())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CatalogError(
            f"{path}: cannot read the catalog manifest ({type(exc).__name__}: {exc})"
        ) from None
    try:
        if raw.get("format") != FORMAT:
            raise CatalogError(f"{path}: format {raw.get('format')!r}, expected {FORMAT!r}")
        if not isinstance(raw, dict) or not isinstance(raw.get("circuits"), list):
            raise CatalogError("expected an object with a list of circuits")
        circuits, certificates, extractions = [], [], []
        seen: dict[tuple[str, int], str] = {}
        for i, item in enumerate(raw["circuits"]):
            where = f"circuits[{i}]"
            if not isinstance(item, dict):
                raise CatalogError(f"{where}: must be an object")
            circuit = _circuit(item, source, where)
            if (circuit.name, circuit.version) in seen:
                first = seen[(circuit.name, circuit.version)]
                raise CatalogError(f"{where}: {circuit.ref} is listed twice (also as {first})")
            seen[(circuit.name, circuit.version)] = where
            circuits.append(circuit)
            for j, cert in enumerate(_field(item, "certificates", list, where)):
                certificates.append(_certificate(cert, circuit, f"{where}.certificates[{j}]"))
            if "extractions" in item:
                for j, ext in enumerate(_field(item, "extractions", list, where)):
                    extractions.append(_extraction(ext, circuit, f"{where}.extractions[{j}]"))
    except CatalogError as exc:
        raise CatalogError(f"{path}: {exc}") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise CatalogError(f"{path}: malformed manifest ({exc!r})") from None
    return Manifest(tuple(circuits), tuple(certificates), tuple(extractions))


def write_manifest(
    directory: Path,
    circuits: Iterable[CircuitRecord],
    certificates: Iterable[CertificateRecord],
    extractions: Iterable[ExtractionRecord] = (),
) -> None:
    """Atomically (temp + rename), so a reader sees the old manifest or the new one."""
    certs, exts = list(certificates), list(extractions)
    items = []
    for c in sorted(circuits, key=lambda c: (c.name, c.version)):
        mine = [x for x in certs if (x.circuit, x.version) == (c.name, c.version)]
        found = [x for x in exts if (x.circuit, x.version) == (c.name, c.version)]
        items.append(
            {
                "name": c.name,
                "version": c.version,
                "signature": c.signature,
                "contract": c.contract,
                "task": c.task,
                "config": c.config,
                "weights_sha256": c.weights_sha256,
                "n_params": c.n_params,
                "created": c.created.isoformat(),
                "certificates": [
                    {
                        "method": x.method,
                        "domain_size": x.domain_size,
                        "n_checked": x.n_checked,
                        "sampled": x.sampled,  # for readers of the format before "method"
                        "accuracy": x.accuracy,
                        "weights_sha256": x.weights_sha256,
                        "precision": x.precision,
                        "backend": x.backend,
                        "min_margin": x.min_margin,
                        "seconds": x.seconds,
                        "samples": [sample.to_dict() for sample in x.samples],
                        "uncovered": x.uncovered,
                        "counterexamples": x.counterexamples,
                        "created": x.created.isoformat(),
                    }
                    for x in mine
                ],
            }
        )
        if found:
            items[-1]["extractions"] = [
                {
                    "method": x.method,
                    "artefact_sha256": x.artefact_sha256,
                    "summary": x.summary,
                    "created": x.created.isoformat(),
                }
                for x in found
            ]
    text = json.dumps({"format": FORMAT, "circuits": items}, indent=1, sort_keys=True) + "\n"
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".manifest.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, directory / MANIFEST)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class PackagedCatalog:
    """A read-only catalog directory (the stdlib's); its manifest is read on first use.

    It answers the reads a run needs (`get`, `circuits`, `load_model`) the way `Catalog` answers
    them for a name the user's database lacks, so `circ run` on a machine with no database yet
    never imports SQLAlchemy (0.35 s of a 2.3 s start, issue 19)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.blobs = BlobStore(self.directory / BLOBS)

    def __enter__(self) -> PackagedCatalog:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def get(self, ref: str, version: int | None = None) -> CircuitRecord:
        """The circuit `ref` (`name` or `name@version`; default the newest version)."""
        name, pinned = parse_ref(ref)
        version = version if version is not None else pinned
        candidates = self.versions(name)
        for record in reversed(candidates):
            if version in (None, record.version):
                return record
        known = (c.name for c in self.manifest.circuits)
        raise UnknownCircuitError(name, known, version, (c.version for c in candidates))

    def load_weights(self, ref: str, version: int | None = None) -> bytes:
        return self._weights(self.get(ref, version))

    def load_model(self, ref: str, version: int | None = None, device: str = "cpu") -> nn.Module:
        """The circuit as an eval-mode `CircuitTransformer` (imports torch)."""
        record = self.get(ref, version)
        return load_model(record, self._weights(record), device)

    def _weights(self, record: CircuitRecord) -> bytes:
        return self.blobs.get(record.weights_sha256, owner=f"circuit {record.name!r}")

    @cached_property
    def manifest(self) -> Manifest:
        return read_manifest(self.directory, source="stdlib")

    def versions(self, name: str) -> list[CircuitRecord]:
        return sorted((c for c in self.manifest.circuits if c.name == name), key=lambda c: c.version)

    def circuits(self) -> list[CircuitRecord]:
        """The newest version of each name."""
        latest: dict[str, CircuitRecord] = {}
        for c in self.manifest.circuits:
            if c.name not in latest or c.version > latest[c.name].version:
                latest[c.name] = c
        return [latest[name] for name in sorted(latest)]


def _field(item: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in item:
        raise CatalogError(f"{where}.{key} is missing")
    value = item[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise CatalogError(f"{where}.{key} has the wrong type ({type(value).__name__})")
    return value


def _created(item: dict[str, Any], where: str) -> datetime:
    try:
        return aware(datetime.fromisoformat(_field(item, "created", str, where)))
    except ValueError:
        raise CatalogError(f"{where}.created is not an ISO date ({item['created']!r})") from None


def _circuit(item: dict[str, Any], source: str, where: str) -> CircuitRecord:
    n_params = item.get("n_params")
    record = CircuitRecord(
        name=_field(item, "name", str, where),
        version=_field(item, "version", int, where),
        signature=_field(item, "signature", str, where),
        contract=_field(item, "contract", str, where),
        task=_field(item, "task", str, where),
        config=_field(item, "config", dict, where),
        weights_sha256=_field(item, "weights_sha256", str, where),
        n_params=n_params if isinstance(n_params, int) else None,
        created=_created(item, where),
        source=source,
    )
    if not re.fullmatch(r"[0-9a-f]{64}", record.weights_sha256):
        raise CatalogError(f"{where}.weights_sha256 is not a sha256 hex digest")
    return record


def _extraction(item: dict[str, Any], circuit: CircuitRecord, where: str) -> ExtractionRecord:
    record = ExtractionRecord(
        id=None,
        circuit=circuit.name,
        version=circuit.version,
        method=_field(item, "method", str, where),
        artefact_sha256=_field(item, "artefact_sha256", str, where),
        summary=_field(item, "summary", dict, where),
        created=_created(item, where),
    )
    if not re.fullmatch(r"[0-9a-f]{64}", record.artefact_sha256):
        raise CatalogError(f"{where}.artefact_sha256 is not a sha256 hex digest")
    return record


def _certificate(item: dict[str, Any], circuit: CircuitRecord, where: str) -> CertificateRecord:
    if not isinstance(item, dict):
        raise CatalogError(f"{where}: must be an object")
    n_checked = item.get("n_checked")
    if "method" in item:
        method = _field(item, "method", str, where)
        sha = item.get("weights_sha256")
    else:  # before certificates named their weights: they hold for this entry's own
        method = "sampled" if _field(item, "sampled", bool, where) else "exhaustive"
        sha = circuit.weights_sha256
    margin, seconds = item.get("min_margin"), item.get("seconds")
    record = CertificateRecord(
        circuit=circuit.name,
        version=circuit.version,
        method=method,
        domain_size=_field(item, "domain_size", int, where),
        n_checked=n_checked if isinstance(n_checked, int) and not isinstance(n_checked, bool) else None,
        accuracy=float(_field(item, "accuracy", (int, float), where)),
        weights_sha256=sha,
        precision=item.get("precision", "fp32"),
        backend=item.get("backend", "torch"),
        min_margin=float(margin)
        if isinstance(margin, int | float) and not isinstance(margin, bool)
        else margin,
        seconds=float(seconds)
        if isinstance(seconds, int | float) and not isinstance(seconds, bool)
        else seconds,
        counterexamples=_field(item, "counterexamples", list, where),
        samples=samples_from_json(item.get("samples"), f"{where}.samples"),
        uncovered=item.get("uncovered") or [],
        created=_created(item, where),
    )
    try:
        check_certification(record, circuit.weights_sha256)
    except CatalogError as exc:
        raise CatalogError(f"{where}.{exc}") from None
    return record
