"""Moving circuits between catalogs: export to a directory in the manifest format (how the stdlib
ships), and import such a directory into a database.

Export writes blobs first and the manifest last (atomically), so an interrupted export never names a
missing file, and it removes only blobs that the directory's own previous manifest named — never a
file it did not write. Import checks every entry against its blob (`binding`) before anything is
written, keeps every `name@version` as exported (a pin means the same circuit in every catalog; a
clash is refused, never renumbered), refuses to hide a shipped stdlib circuit unless asked, and
registers everything in one transaction: all of a directory or none of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from circ.learn.catalog.binding import check_weights
from circ.learn.catalog.catalog import (
    NAME,
    Catalog,
    circuit_record,
    merge_certificates,
    merge_extractions,
    record_fields,
)
from circ.learn.catalog.certificates import CertificateRecord
from circ.learn.catalog.manifest import BLOBS, MANIFEST, read_manifest, write_manifest
from circ.learn.catalog.records import CatalogError, CircuitRecord, ExtractionRecord, ImportResult
from circ.learn.catalog.schema import Circuit
from circ.learn.store import BlobStore


def export_catalog(
    catalog: Catalog, directory: str | Path, names: Iterable[str] | None = None
) -> list[CircuitRecord]:
    """Write `names` (default: all that `circuits()` lists) with their certificates to `directory`.

    The directory's manifest is replaced; blobs its previous manifest named and the new one does not
    are removed (so exporting into `stdlib/catalog` leaves exactly the shipped circuits there)."""
    directory = Path(directory)
    target = BlobStore(directory / BLOBS)
    if target.root.resolve() == catalog.blobs.root.resolve():
        raise CatalogError(f"{directory}: is this catalog's own data directory; export somewhere else")
    records = catalog.circuits() if names is None else [catalog.get(n) for n in names]
    previous = read_manifest(directory, source="user")
    before = {c.weights_sha256 for c in previous.circuits} | {e.artefact_sha256 for e in previous.extractions}
    certificates: list[CertificateRecord] = []
    extractions: list[ExtractionRecord] = []
    for record in records:
        target.put(catalog.load_weights(record.ref), owner=f"circuit {record.name!r}")
        certificates += catalog.certificates(record.ref)
        for e in catalog.extractions(record.ref):
            target.put(catalog.load_artefact(e), owner=f"{e.method} extraction of circuit {record.name!r}")
            extractions.append(e)
    write_manifest(directory, records, certificates, extractions)
    named = {r.weights_sha256 for r in records} | {e.artefact_sha256 for e in extractions}
    for sha in before - named:
        target.remove(sha)
    return records


def import_catalog(catalog: Catalog, directory: str | Path, shadow: bool = False) -> ImportResult:
    """Register every circuit and certificate of an exported directory, all in one transaction.

    Every blob is hash-checked against the manifest and its record before anything is written.
    `shadow` allows circuits that would hide a shipped stdlib circuit of the same name."""
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
        try:
            check_weights(c, data)
        except CatalogError as exc:
            raise CatalogError(f"{directory}: {exc}") from None
        weights[c.weights_sha256] = data
    for e in manifest.extractions:
        weights[e.artefact_sha256] = source.get(
            e.artefact_sha256, owner=f"{e.method} extraction of {e.circuit!r}"
        )
    if not shadow:
        _refuse_shadowing(catalog, manifest.circuits, directory)
    for data in weights.values():
        catalog.blobs.put(data)

    def write(s: Session) -> ImportResult:
        out, new, added = [], 0, 0
        for c in manifest.circuits:
            row, inserted = _keep_version(s, c, directory)
            added += merge_certificates(s, row, manifest.certificates_of(c))
            merge_extractions(s, row, manifest.extractions_of(c))
            new += inserted
            out.append(circuit_record(row))
        return ImportResult(tuple(out), new, added)

    return catalog.transaction(write)


def _same(a: Circuit | CircuitRecord, b: CircuitRecord) -> bool:
    return record_fields(a) == record_fields(b) and a.weights_sha256 == b.weights_sha256


def _keep_version(s: Session, c: CircuitRecord, directory: Path) -> tuple[Circuit, bool]:
    """The row for `c.name@c.version`: the existing identical one, or a new one with that number."""
    found = s.scalars(select(Circuit).where(Circuit.name == c.name, Circuit.version == c.version)).first()
    if found is not None:
        if not _same(found, c):
            raise CatalogError(
                f"{directory}: this catalog already has a different {c.ref}; a pin must mean one circuit, "
                "so it is not renumbered: import into another catalog, or rename one of them"
            )
        return found, False
    row = Circuit(
        name=c.name,
        version=c.version,
        weights_sha256=c.weights_sha256,
        n_params=c.n_params,
        created=c.created,
        **record_fields(c),
    )
    s.add(row)
    s.flush()
    return row, True


def _refuse_shadowing(catalog: Catalog, circuits: Iterable[CircuitRecord], directory: Path) -> None:
    if catalog.packaged is None:
        return
    hidden = []
    for c in circuits:
        shipped = catalog.packaged.versions(c.name)
        if shipped and not any(p.version == c.version and _same(p, c) for p in shipped):
            hidden.append(c.ref)
    if hidden:
        raise CatalogError(
            f"{directory}: importing {', '.join(hidden)} would hide the shipped stdlib circuit of that name; "
            "rename it, or import with shadow=True (`--shadow`) if that is what you want"
        )
