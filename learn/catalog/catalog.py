"""The circuit catalog (DESIGN §7): the user's database of trained circuits over the packaged stdlib.

Lookups try the user's database (read-write: SQLite by default, any SQLAlchemy URL) and then the
packaged read-only catalog that ships with circ; a name in the database hides the stdlib's entirely.
Writes only ever go to the database; certifying or linking a stdlib circuit first copies it there
(with its certificates), keeping its version number.

Versions: registering a circuit whose signature, contract, task, config and weights all equal the
name's newest version is a no-op that returns it (retries and repeated imports are safe); anything
else becomes version n + 1. Nothing is overwritten, so a certificate always describes the weights it
was computed on, and `name@version` pins one circuit forever.

Weights are bytes of a safetensors file as `circ.learn.model.save_weights` writes it (config JSON in
the metadata), kept in a `BlobStore` beside the database and hash-checked on every load.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from circ.learn.catalog.manifest import BLOBS, MANIFEST, PackagedCatalog, read_manifest, write_manifest
from circ.learn.catalog.records import (
    MAX_COUNTEREXAMPLES,
    CatalogError,
    CertificateRecord,
    CircuitRecord,
    ExtractionRecord,
    ImportResult,
    TrainingRunRecord,
    UnknownCircuitError,
    aware,
    utcnow,
)
from circ.learn.catalog.schema import Certificate, Circuit, Extraction, TrainingRun, migrate, open_engine
from circ.learn.store import BlobStore
from circ.settings import Settings, sqlite_path

if TYPE_CHECKING:
    from torch import nn

CIRCUIT_FORMAT = "circ.circuit/1"  # circ.learn.model.FORMAT, not imported: that module imports torch
_NAME = re.compile(r"[A-Za-z_][\w.\-]*")
T = TypeVar("T")


def parse_ref(ref: str) -> tuple[str, int | None]:
    """`name` or `name@version`."""
    name, at, version = ref.partition("@")
    if not at:
        return ref, None
    if not version.isdigit():
        raise CatalogError(f"bad circuit reference {ref!r}: expected NAME or NAME@VERSION")
    return name, int(version)


def inspect_weights(data: bytes) -> tuple[dict[str, Any], int]:
    """(model config, parameter count) from a circuit's safetensors header, without loading tensors."""
    try:
        size = int.from_bytes(data[:8], "little")
        if len(data) < 8 or size > len(data) - 8:
            raise ValueError("truncated header")
        header = json.loads(data[8 : 8 + size])
        meta = header.pop("__metadata__", None) or {}
        if meta.get("format") != CIRCUIT_FORMAT:
            raise CatalogError(f"weights: not a circ circuit (format {meta.get('format')!r})")
        config = json.loads(meta["config"])
        n_params = sum(math.prod(t["shape"]) for t in header.values())
    except (ValueError, KeyError, TypeError) as exc:
        raise CatalogError(f"weights: not a circ circuit safetensors file ({exc})") from None
    return config, n_params


class Catalog:
    def __init__(self, url: str, blob_root: str | Path, *, packaged: str | Path | None = None) -> None:
        """Open (creating or upgrading) the database at `url`; `packaged` is the read-only fallback."""
        self.url = url
        self.blobs = BlobStore(Path(blob_root).absolute())  # errors name a file the user can find
        self.packaged = PackagedCatalog(packaged) if packaged is not None else None
        try:
            self._engine = open_engine(url)
            migrate(self._engine)
        except (SQLAlchemyError, ImportError) as exc:
            raise CatalogError(f"cannot open catalog database {_display(url)}: {_reason(exc)}") from None
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    @classmethod
    def open(cls, settings: Settings) -> Catalog:
        db_file = sqlite_path(settings.db_url)
        if db_file is not None and db_file.parent.resolve() == settings.data_dir.resolve():
            settings.data_dir.mkdir(parents=True, exist_ok=True)  # the default location, made on first use
        return cls(settings.db_url, settings.blob_dir, packaged=settings.stdlib_catalog)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reading -------------------------------------------------------------------------------

    def get(self, ref: str, version: int | None = None) -> CircuitRecord:
        """The circuit `ref` (`name` or `name@version`; default the newest version)."""
        with self._read() as s:
            return self._resolve(s, ref, version)

    def circuits(self) -> list[CircuitRecord]:
        """The newest version of every name, the database's first, sorted by name."""
        with self._read() as s:
            latest: dict[str, CircuitRecord] = {}
            for row in s.scalars(select(Circuit).order_by(Circuit.name, Circuit.version)):
                latest[row.name] = _circuit(row)
        for record in self.packaged.circuits() if self.packaged else []:
            latest.setdefault(record.name, record)
        return [latest[name] for name in sorted(latest)]

    def versions(self, name: str) -> list[CircuitRecord]:
        """Every version of `name`, oldest first, from wherever `get(name)` would look."""
        with self._read() as s:
            rows = [_circuit(r) for r in self._user_rows(s, name)]
        return rows or (self.packaged.versions(name) if self.packaged else [])

    def load_weights(self, ref: str, version: int | None = None) -> bytes:
        """The circuit's safetensors bytes, hash-checked (`StoreError` names the circuit and file)."""
        return self._weights(self.get(ref, version))

    def load_model(self, ref: str, version: int | None = None, device: str = "cpu") -> nn.Module:
        """The circuit as an eval-mode `CircuitTransformer` (imports torch)."""
        from safetensors.torch import load

        from circ.learn.model import CircuitTransformer, ModelConfig

        record = self.get(ref, version)
        model = CircuitTransformer(ModelConfig.from_dict(record.config))
        model.load_state_dict(load(self._weights(record)))
        return model.to(device).eval()

    def weights_path(self, record: CircuitRecord) -> Path:
        return self._store(record).path(record.weights_sha256)

    def certificates(self, ref: str, version: int | None = None) -> list[CertificateRecord]:
        """Oldest first."""
        with self._read() as s:
            return self._certificates(s, self._resolve(s, ref, version))

    def latest_certificate(self, ref: str, version: int | None = None) -> CertificateRecord | None:
        certificates = self.certificates(ref, version)
        return certificates[-1] if certificates else None

    def training_runs(self, circuit: str | None = None) -> list[TrainingRunRecord]:
        """All runs, or those that produced `circuit` (any version unless pinned with @)."""
        with self._read() as s:
            query = select(TrainingRun).order_by(TrainingRun.id)
            if circuit is not None:
                name, version = parse_ref(circuit)
                ids = [r.id for r in self._user_rows(s, name) if version in (None, r.version)]
                query = query.where(TrainingRun.circuit_id.in_(ids))
            return [_run(s, row) for row in s.scalars(query)]

    def extractions(self, ref: str, version: int | None = None) -> list[ExtractionRecord]:
        """Oldest first; a packaged circuit's come from its manifest."""
        with self._read() as s:
            return self._extractions(s, self._resolve(s, ref, version))

    def load_artefact(self, extraction: ExtractionRecord) -> bytes:
        owner = f"extraction {extraction.id or ''} ({extraction.method}) of circuit {extraction.circuit!r}"
        store = self.packaged.blobs if extraction.id is None and self.packaged else self.blobs
        return store.get(extraction.artefact_sha256, owner=owner)

    # ---- writing -------------------------------------------------------------------------------

    def register_circuit(
        self,
        name: str,
        signature: str,
        contract: str,
        task: str,
        config: dict[str, Any] | None,
        weights: bytes,
    ) -> CircuitRecord:
        """Store a trained circuit; `config` None takes it from the weights' metadata (else must match)."""
        if not _NAME.fullmatch(name):
            raise CatalogError(f"name: {name!r} is not a circuit name (letters, digits, _ . -)")
        found, n_params = inspect_weights(weights)
        if config is not None and config != found:
            raise CatalogError(f"config: differs from the config in the weights' metadata ({found})")
        fields = {"signature": signature, "contract": contract, "task": task, "config": found}
        sha = self.blobs.put(weights, owner=f"circuit {name!r}")  # first: a row never names a missing file
        return self._write(lambda s: _circuit(self._insert(s, name, fields, sha, n_params)[0]))

    def add_certificate(
        self,
        ref: str,
        *,
        domain_size: int,
        n_checked: int | None,
        sampled: bool,
        accuracy: float,
        counterexamples: Iterable[Any] = (),
        version: int | None = None,
    ) -> CertificateRecord:
        """Record a certification run; keeps the first MAX_COUNTEREXAMPLES counterexamples."""
        kept = list(counterexamples)[:MAX_COUNTEREXAMPLES]
        _check_certificate(domain_size, n_checked, sampled, accuracy, kept)
        if not sampled:
            n_checked = domain_size

        def write(s: Session) -> CertificateRecord:
            row = self._writable(s, ref, version)
            cert = Certificate(
                circuit_id=row.id,
                domain_size=str(domain_size),
                n_checked=n_checked,
                sampled=sampled,
                accuracy=float(accuracy),
                counterexamples=kept,
                created=utcnow(),
            )
            s.add(cert)
            s.flush()
            return _certificate(row, cert)

        return self._write(write)

    def add_training_run(
        self,
        task: str,
        config: dict[str, Any],
        seed: int,
        *,
        status: str = "running",
        curves: Any = None,
        circuit: str | None = None,
    ) -> TrainingRunRecord:
        def write(s: Session) -> TrainingRunRecord:
            circuit_id = self._writable(s, circuit, None).id if circuit else None
            row = TrainingRun(
                circuit_id=circuit_id,
                task=task,
                config=config,
                seed=seed,
                curves=curves,
                status=status,
                created=utcnow(),
            )
            s.add(row)
            s.flush()
            return _run(s, row)

        return self._write(write)

    def update_training_run(
        self, run_id: int, *, status: str | None = None, curves: Any = None, circuit: str | None = None
    ) -> TrainingRunRecord:
        """Set any of status, curves and the circuit the run produced; the rest stays."""

        def write(s: Session) -> TrainingRunRecord:
            row = s.get(TrainingRun, run_id)
            if row is None:
                raise CatalogError(f"no training run {run_id}")
            if status is not None:
                row.status = status
            if curves is not None:
                row.curves = curves
            if circuit is not None:
                row.circuit_id = self._writable(s, circuit, None).id
            s.flush()
            return _run(s, row)

        return self._write(write)

    def add_extraction(
        self, ref: str, method: str, artefact: bytes, summary: dict[str, Any], version: int | None = None
    ) -> ExtractionRecord:
        """Store an extraction artefact (e.g. a pruned or transcoded safetensors file) for a circuit."""
        sha = self.blobs.put(artefact, owner=f"{method} extraction of circuit {ref!r}")

        def write(s: Session) -> ExtractionRecord:
            circuit = self._writable(s, ref, version)
            row = Extraction(
                circuit_id=circuit.id, method=method, artefact_sha256=sha, summary=summary, created=utcnow()
            )
            s.add(row)
            s.flush()
            return _extraction(_circuit(circuit), row)

        return self._write(write)

    # ---- exchange ------------------------------------------------------------------------------

    def export(self, directory: str | Path, names: Iterable[str] | None = None) -> list[CircuitRecord]:
        """Write `names` (default: all that `circuits()` lists) with their certificates to `directory`.

        The directory's manifest is replaced, and blobs it no longer names are removed, so exporting
        into `stdlib/catalog` leaves exactly the shipped circuits there."""
        directory = Path(directory)
        records = self.circuits() if names is None else [self.get(n) for n in names]
        target = BlobStore(directory / BLOBS)
        certificates: list[CertificateRecord] = []
        extractions: list[ExtractionRecord] = []
        for record in records:
            target.put(self._weights(record), owner=f"circuit {record.name!r}")
            with self._read() as s:
                certificates += self._certificates(s, record)
                mine = self._extractions(s, record)
            for e in mine:
                target.put(self.load_artefact(e), owner=f"{e.method} extraction of circuit {record.name!r}")
            extractions += mine
        write_manifest(directory, records, certificates, extractions)
        named = {r.weights_sha256 for r in records} | {e.artefact_sha256 for e in extractions}
        for sha in target.shas() - named:
            target.remove(sha)
        return records

    def import_(self, directory: str | Path) -> ImportResult:
        """Register every circuit and certificate of an exported directory, all in one transaction.

        Every blob is hash-checked against the manifest before anything is written."""
        directory = Path(directory)
        if not (directory / MANIFEST).is_file():
            raise CatalogError(f"{directory}: no {MANIFEST} (not an exported catalog)")
        manifest = read_manifest(directory, source="user")
        source = BlobStore(directory / BLOBS)
        weights = {}
        for c in manifest.circuits:
            if not _NAME.fullmatch(c.name):
                raise CatalogError(f"{directory}: {c.name!r} is not a circuit name")
            data = source.get(c.weights_sha256, owner=f"circuit {c.name!r}")
            if inspect_weights(data)[0] != c.config:
                raise CatalogError(f"{directory}: circuit {c.name!r}: config differs from its weights")
            weights[c.weights_sha256] = data
        for e in manifest.extractions:
            owner = f"{e.method} extraction of circuit {e.circuit!r}"
            weights[e.artefact_sha256] = source.get(e.artefact_sha256, owner=owner)
        for data in weights.values():
            self.blobs.put(data)

        def write(s: Session) -> ImportResult:
            out, new, added = [], 0, 0
            for c in manifest.circuits:
                row, inserted = self._insert(s, c.name, _fields(c), c.weights_sha256, c.n_params, c.created)
                added += _merge_certificates(s, row, manifest.certificates_of(c))
                _merge_extractions(s, row, manifest.extractions_of(c))
                new += inserted
                out.append(_circuit(row))
            return ImportResult(tuple(out), new, added)

        return self._write(write)

    # ---- internals -----------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with self._sessions() as s:
                yield s
        except SQLAlchemyError as exc:
            raise CatalogError(f"catalog database {_display(self.url)}: {_reason(exc)}") from None

    def _write(self, work: Callable[[Session], T]) -> T:
        """One transaction. On SQLite BEGIN IMMEDIATE serialises writers; a server database can race
        two new versions of one name, so a unique-index clash is retried."""
        for attempt in range(3):
            try:
                with self._sessions.begin() as s:
                    return work(s)
            except IntegrityError as exc:
                if attempt == 2:
                    raise CatalogError(f"catalog database {_display(self.url)}: {_reason(exc)}") from None
            except SQLAlchemyError as exc:
                raise CatalogError(f"catalog database {_display(self.url)}: {_reason(exc)}") from None
        raise AssertionError("unreachable")

    def _user_rows(self, s: Session, name: str) -> list[Circuit]:
        return list(s.scalars(select(Circuit).where(Circuit.name == name).order_by(Circuit.version)))

    def _resolve(self, s: Session, ref: str, version: int | None) -> CircuitRecord:
        name, pinned = parse_ref(ref)
        version = version if version is not None else pinned
        candidates = [_circuit(r) for r in self._user_rows(s, name)]
        if not candidates and self.packaged:
            candidates = self.packaged.versions(name)
        for record in reversed(candidates):
            if version in (None, record.version):
                return record
        known = set(s.scalars(select(Circuit.name)))
        known |= {c.name for c in self.packaged.circuits()} if self.packaged else set()
        raise UnknownCircuitError(name, known, version, (c.version for c in candidates))

    def _writable(self, s: Session, ref: str, version: int | None) -> Circuit:
        """The database row for `ref`, copying a stdlib circuit (and its certificates) in first."""
        record = self._resolve(s, ref, version)
        if record.id is not None:
            return s.get_one(Circuit, record.id)
        self.blobs.put(self._weights(record), owner=f"circuit {record.name!r}")
        row, _ = self._insert(
            s, record.name, _fields(record), record.weights_sha256, record.n_params, record.created
        )
        assert self.packaged is not None
        _merge_certificates(s, row, self.packaged.manifest.certificates_of(record))
        shipped = self.packaged.manifest.extractions_of(record)
        for e in shipped:
            self.blobs.put(self.load_artefact(e), owner=f"{e.method} extraction of circuit {record.name!r}")
        _merge_extractions(s, row, shipped)
        return row

    def _insert(
        self,
        s: Session,
        name: str,
        fields: dict[str, Any],
        sha: str,
        n_params: int | None,
        created: datetime | None = None,
    ) -> tuple[Circuit, bool]:
        """The newest version if it is identical, else a new version (numbered past the stdlib's)."""
        rows = self._user_rows(s, name)
        packaged = self.packaged.versions(name) if self.packaged else []

        def same(c: Circuit | CircuitRecord) -> bool:
            return _fields(c) == fields and c.weights_sha256 == sha

        if rows and same(rows[-1]):
            return rows[-1], False
        if not rows and packaged and same(packaged[-1]):
            version = packaged[-1].version  # adopting the stdlib circuit: it keeps its number
        else:
            version = max([r.version for r in rows] + [p.version for p in packaged], default=0) + 1
        row = Circuit(
            name=name,
            version=version,
            weights_sha256=sha,
            n_params=n_params,
            created=created or utcnow(),
            **fields,
        )
        s.add(row)
        s.flush()
        return row, True

    def _certificates(self, s: Session, record: CircuitRecord) -> list[CertificateRecord]:
        if record.id is None:
            return self.packaged.manifest.certificates_of(record) if self.packaged else []
        row = s.get_one(Circuit, record.id)
        query = select(Certificate).where(Certificate.circuit_id == record.id)
        return [_certificate(row, c) for c in s.scalars(query.order_by(Certificate.created, Certificate.id))]

    def _extractions(self, s: Session, record: CircuitRecord) -> list[ExtractionRecord]:
        if record.id is None:
            return self.packaged.manifest.extractions_of(record) if self.packaged else []
        query = select(Extraction).where(Extraction.circuit_id == record.id)
        return [
            _extraction(record, row) for row in s.scalars(query.order_by(Extraction.created, Extraction.id))
        ]

    def _store(self, record: CircuitRecord) -> BlobStore:
        if record.source == "stdlib" and self.packaged is not None:
            return self.packaged.blobs
        return self.blobs

    def _weights(self, record: CircuitRecord) -> bytes:
        return self._store(record).get(record.weights_sha256, owner=f"circuit {record.name!r}")


def _fields(c: Circuit | CircuitRecord) -> dict[str, Any]:
    """What makes two registrations the same circuit, besides the weights."""
    return {"signature": c.signature, "contract": c.contract, "task": c.task, "config": c.config}


def _merge_certificates(s: Session, row: Circuit, certificates: Iterable[CertificateRecord]) -> int:
    """Add the certificates `row` does not have yet (same time, accuracy and coverage); count them."""
    have = {
        (aware(c.created), c.accuracy, c.n_checked, c.sampled)
        for c in s.scalars(select(Certificate).where(Certificate.circuit_id == row.id))
    }
    added = 0
    for c in certificates:
        if (c.created, c.accuracy, c.n_checked, c.sampled) not in have:
            s.add(
                Certificate(
                    circuit_id=row.id,
                    domain_size=str(c.domain_size),
                    n_checked=c.n_checked,
                    sampled=c.sampled,
                    accuracy=c.accuracy,
                    counterexamples=c.counterexamples[:MAX_COUNTEREXAMPLES],
                    created=c.created,
                )
            )
            added += 1
    s.flush()
    return added


def _merge_extractions(s: Session, row: Circuit, extractions: Iterable[ExtractionRecord]) -> None:
    """Add the extractions `row` does not have yet (same method, artefact and time)."""
    have = {
        (e.method, e.artefact_sha256, aware(e.created))
        for e in s.scalars(select(Extraction).where(Extraction.circuit_id == row.id))
    }
    for e in extractions:
        if (e.method, e.artefact_sha256, e.created) not in have:
            s.add(
                Extraction(
                    circuit_id=row.id,
                    method=e.method,
                    artefact_sha256=e.artefact_sha256,
                    summary=e.summary,
                    created=e.created,
                )
            )
    s.flush()


def _check_certificate(
    domain_size: int, n_checked: int | None, sampled: bool, accuracy: float, counterexamples: list[Any]
) -> None:
    if isinstance(domain_size, bool) or not isinstance(domain_size, int) or domain_size < 1:
        raise CatalogError(f"domain_size: must be a positive integer, got {domain_size!r}")
    if n_checked is not None and not 0 <= n_checked <= domain_size:
        raise CatalogError(f"n_checked: must be between 0 and domain_size={domain_size}, got {n_checked}")
    if sampled and n_checked is None:
        raise CatalogError("n_checked: a sampled certificate must say how many points it checked")
    if not sampled and n_checked not in (None, domain_size):
        raise CatalogError(f"n_checked: an exhaustive certificate checks all {domain_size}, got {n_checked}")
    if not 0.0 <= accuracy <= 1.0:
        raise CatalogError(f"accuracy: must be between 0 and 1, got {accuracy!r}")
    try:
        json.dumps(counterexamples)
    except (TypeError, ValueError) as exc:
        raise CatalogError(f"counterexamples: not JSON ({exc})") from None


def _circuit(row: Circuit) -> CircuitRecord:
    return CircuitRecord(
        name=row.name,
        version=row.version,
        signature=row.signature,
        contract=row.contract,
        task=row.task,
        config=row.config,
        weights_sha256=row.weights_sha256,
        n_params=row.n_params,
        created=aware(row.created),
        source="user",
        id=row.id,
    )


def _certificate(circuit: Circuit, row: Certificate) -> CertificateRecord:
    return CertificateRecord(
        circuit=circuit.name,
        version=circuit.version,
        domain_size=int(row.domain_size),
        n_checked=row.n_checked,
        sampled=row.sampled,
        accuracy=row.accuracy,
        counterexamples=row.counterexamples,
        created=aware(row.created),
        id=row.id,
    )


def _run(s: Session, row: TrainingRun) -> TrainingRunRecord:
    circuit = s.get(Circuit, row.circuit_id) if row.circuit_id is not None else None
    return TrainingRunRecord(
        id=row.id,
        task=row.task,
        config=row.config,
        seed=row.seed,
        curves=row.curves,
        status=row.status,
        circuit=_circuit(circuit).ref if circuit else None,
        created=aware(row.created),
    )


def _extraction(circuit: CircuitRecord, row: Extraction) -> ExtractionRecord:
    return ExtractionRecord(
        id=row.id,
        circuit=circuit.name,
        version=circuit.version,
        method=row.method,
        artefact_sha256=row.artefact_sha256,
        summary=row.summary,
        created=aware(row.created),
    )


def _display(url: str) -> str:
    """The URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL has no password we could find
        return url


def _reason(exc: BaseException) -> str:
    """The driver's own message, not SQLAlchemy's wrapper with its SQL and docs link."""
    if isinstance(exc, ImportError):
        return f"its database driver is not installed ({exc})"
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).splitlines()[0]
