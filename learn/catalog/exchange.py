"""Moving circuits between catalogs: export to a directory in the manifest format (how the stdlib
ships), and import such a directory into a database.

Export writes blobs first and the manifest last (atomically), so an interrupted export never names a
missing file. Import checks every blob against the manifest before anything is written, then
registers every circuit and certificate in one transaction: all of a directory or none of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.orm import Session

from circ.learn.catalog.catalog import (
    NAME,
    Catalog,
    circuit_record,
    inspect_weights,
    merge_certificates,
    record_fields,
)
from circ.learn.catalog.manifest import BLOBS, MANIFEST, read_manifest, write_manifest
from circ.learn.catalog.records import CatalogError, CertificateRecord, CircuitRecord, ImportResult
from circ.learn.store import BlobStore


def export_catalog(
    catalog: Catalog, directory: str | Path, names: Iterable[str] | None = None
) -> list[CircuitRecord]:
    """Write `names` (default: all that `circuits()` lists) with their certificates to `directory`.

    The directory's manifest is replaced, and blobs it no longer names are removed, so exporting
    into `stdlib/catalog` leaves exactly the shipped circuits there."""
    directory = Path(directory)
    records = catalog.circuits() if names is None else [catalog.get(n) for n in names]
    target = BlobStore(directory / BLOBS)
    certificates: list[CertificateRecord] = []
    for record in records:
        target.put(catalog.load_weights(record.ref), owner=f"circuit {record.name!r}")
        certificates += catalog.certificates(record.ref)
    write_manifest(directory, records, certificates)
    for sha in target.shas() - {r.weights_sha256 for r in records}:
        target.remove(sha)
    return records


def import_catalog(catalog: Catalog, directory: str | Path) -> ImportResult:
    """Register every circuit and certificate of an exported directory, all in one transaction.

    Every blob is hash-checked against the manifest before anything is written."""
    directory = Path(directory)
    if not (directory / MANIFEST).is_file():
        raise CatalogError(f"{directory}: no {MANIFEST} (not an exported catalog)")
    manifest = read_manifest(directory, source="user")
    source = BlobStore(directory / BLOBS)
    weights = {}
    for c in manifest.circuits:
        if not NAME.fullmatch(c.name):
            raise CatalogError(f"{directory}: {c.name!r} is not a circuit name")
        data = source.get(c.weights_sha256, owner=f"circuit {c.name!r}")
        if inspect_weights(data)[0] != c.config:
            raise CatalogError(f"{directory}: circuit {c.name!r}: config differs from its weights")
        weights[c.weights_sha256] = data
    for data in weights.values():
        catalog.blobs.put(data)

    def write(s: Session) -> ImportResult:
        out, new, added = [], 0, 0
        for c in manifest.circuits:
            row, inserted = catalog.insert_version(
                s, c.name, record_fields(c), c.weights_sha256, c.n_params, c.created
            )
            added += merge_certificates(s, row, manifest.certificates_of(c))
            new += inserted
            out.append(circuit_record(row))
        return ImportResult(tuple(out), new, added)

    return catalog.transaction(write)
