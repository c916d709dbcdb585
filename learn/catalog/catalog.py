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

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from circ.circuit.weights import WeightsError, canonical, read_header
from circ.learn.catalog.binding import check_weights, load_model
from circ.learn.catalog.certificates import (
    MAX_COUNTEREXAMPLES,
    CertificateRecord,
    Certification,
    samples_from_json,
)
from circ.learn.catalog.certificates import check as check_certification
from circ.learn.catalog.manifest import PackagedCatalog
from circ.learn.catalog.records import (
    CatalogError,
    CircuitRecord,
    ExtractionRecord,
    TrainingRunRecord,
    UnknownCircuitError,
    aware,
    parse_ref,
    sqlite_path,
    utcnow,
)
from circ.learn.catalog.schema import (
    Certificate,
    Circuit,
    Extraction,
    TrainingRun,
    migrate,
    open_engine,
)
from circ.learn.store import BlobStore

if TYPE_CHECKING:
    from torch import nn

NAME = re.compile(r"[A-Za-z_][\w.\-]*")  # a circuit name: letters, digits, _ . -
T = TypeVar("T")


def inspect_weights(data: bytes) -> tuple[dict[str, Any], int]:
    """(model config, parameter count) from a circuit's safetensors header, without loading tensors."""
    try:
        header = read_header(data)
    except WeightsError as exc:
        raise CatalogError(str(exc)) from None
    return header.config, header.n_params


WRITE_LOCK = 0x63697264  # PostgreSQL advisory lock key of catalog writes


class Catalog:
    def __init__(self, url: str, blob_root: str | Path, *, packaged: str | Path | None = None) -> None:
        """Open (creating or upgrading) the database at `url`; `packaged` is the read-only fallback."""
        self.url = url
        self.blobs = BlobStore(Path(blob_root).absolute())  # errors name a file the user can find
        self.packaged = PackagedCatalog(packaged) if packaged is not None else None
        _refuse_empty_file(url)
        try:
            self._engine = open_engine(url)
            # an in-memory SQLite database exists once per engine: there, the writer reads too
            in_memory = self._engine.dialect.name == "sqlite" and sqlite_path(url) is None
            self._reader = self._engine if in_memory else open_engine(url, writer=False)
            migrate(self._engine, self._reader)
        except (SQLAlchemyError, ImportError) as exc:
            raise CatalogError(f"cannot open catalog database {_display(url)}: {_reason(exc)}") from None
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self._reader, expire_on_commit=False)

    def close(self) -> None:
        self._engine.dispose()
        if self._reader is not self._engine:
            self._reader.dispose()

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
                latest[row.name] = circuit_record(row)
        for record in self.packaged.circuits() if self.packaged else []:
            latest.setdefault(record.name, record)
        return [latest[name] for name in sorted(latest)]

    def versions(self, name: str) -> list[CircuitRecord]:
        """Every version of `name`, oldest first, from wherever `get(name)` would look."""
        with self._read() as s:
            rows = [circuit_record(r) for r in self._user_rows(s, name)]
        return rows or (self.packaged.versions(name) if self.packaged else [])

    def load_weights(self, ref: str, version: int | None = None) -> bytes:
        """The circuit's safetensors bytes, hash-checked (`StoreError` names the circuit and file)."""
        return self._weights(self.get(ref, version))

    def load_model(self, ref: str, version: int | None = None, device: str = "cpu") -> nn.Module:
        """The circuit as an eval-mode `CircuitTransformer` (imports torch)."""
        record = self.get(ref, version)
        return load_model(record, self._weights(record), device)

    def weights_path(self, record: CircuitRecord) -> Path:
        return self._store(record).path(record.weights_sha256)

    def certificates(self, ref: str, version: int | None = None) -> list[CertificateRecord]:
        """Oldest first."""
        with self._read() as s:
            return self._certificates(s, self._resolve(s, ref, version))

    def latest_certificate(
        self, ref: str, version: int | None = None, precision: str = "fp32"
    ) -> CertificateRecord | None:
        """The newest certificate in `precision` (fp32: what a run computes in unless told)."""
        certificates = [c for c in self.certificates(ref, version) if c.precision == precision]
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
        """Store a trained circuit; `config` None takes it from the weights' metadata (else must match).
        The weights must name `task` in their metadata and fit `signature` (`binding.check_weights`)."""
        if not NAME.fullmatch(name):
            raise CatalogError(f"name: {name!r} is not a circuit name (letters, digits, _ . -)")
        found, _ = inspect_weights(weights)
        if config is not None and config != found:
            raise CatalogError(f"config: differs from the config in the weights' metadata ({found})")
        fields = {"signature": signature, "contract": contract, "task": task, "config": found}
        weights = canonical(weights)  # one byte layout per content, so one sha256
        header = check_weights(_Described(name, **fields), weights)
        n_params = header.n_params
        sha = self.blobs.put(weights, owner=f"circuit {name!r}")  # first: a row never names a missing file
        return self.transaction(lambda s: circuit_record(self._insert(s, name, fields, sha, n_params)[0]))

    def add_certificate(
        self, ref: str, result: Certification, version: int | None = None
    ) -> CertificateRecord:
        """Record a certification run; keeps the first MAX_COUNTEREXAMPLES counterexamples. Refused
        when it claims more than it can, or was computed on other weights than the circuit's."""

        def write(s: Session) -> CertificateRecord:
            row = self._writable(s, ref, version)
            cert = _certificate_row(row, result, utcnow())
            s.add(cert)
            s.flush()
            return _certificate(row, cert)

        return self.transaction(write)

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

        return self.transaction(write)

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

        return self.transaction(write)

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
            return _extraction(circuit_record(circuit), row)

        return self.transaction(write)

    # ---- internals -----------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Session]:
        """A read-only session: it never takes the write lock, so readers never wait on a writer."""
        try:
            with self._read_sessions() as s:
                yield s
        except CatalogError:
            raise
        except SQLAlchemyError as exc:
            raise CatalogError(f"catalog database {_display(self.url)}: {_reason(exc)}") from None
        except (ValueError, TypeError, KeyError, OverflowError) as exc:  # a row edited by hand, or damaged
            message = f"catalog database {_display(self.url)} has a damaged row ({type(exc).__name__}: {exc})"
            raise CatalogError(message) from None

    def transaction(self, work: Callable[[Session], T]) -> T:
        """One write transaction (`exchange` imports a whole directory in one). On SQLite BEGIN
        IMMEDIATE serialises writers, on PostgreSQL a transaction-scoped advisory lock (two writers
        picking the next version of one name would otherwise clash); a unique-index clash from any
        other server is retried."""
        for attempt in range(3):
            try:
                with self._sessions.begin() as s:
                    if s.get_bind().dialect.name == "postgresql":  # writers one at a time, as SQLite does
                        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK})
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
        candidates = [circuit_record(r) for r in self._user_rows(s, name)]
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
            s, record.name, record_fields(record), record.weights_sha256, record.n_params, record.created
        )
        assert self.packaged is not None
        merge_certificates(s, row, self.packaged.manifest.certificates_of(record))
        shipped = self.packaged.manifest.extractions_of(record)
        for e in shipped:
            self.blobs.put(self.load_artefact(e), owner=f"{e.method} extraction of circuit {record.name!r}")
        merge_extractions(s, row, shipped)
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
            return record_fields(c) == fields and c.weights_sha256 == sha

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


@dataclass(frozen=True)
class _Described:
    name: str
    signature: str
    contract: str
    task: str
    config: dict[str, Any]


def _refuse_empty_file(url: str, wait: float = 2.0) -> None:
    """An existing but empty SQLite file is not a new catalog: something truncated it. Refuse rather
    than silently start an empty one over it. (A file another circ process is creating this instant
    is empty for a few milliseconds: it is given `wait` seconds to gain its header first.)"""
    path = sqlite_path(url)
    deadline = time.monotonic() + wait
    while path is not None and path.is_file() and path.stat().st_size == 0:
        if time.monotonic() > deadline:
            raise CatalogError(
                f"catalog database {path} is an empty file (0 bytes): restore it, or remove it to start"
                " afresh"
            )
        time.sleep(0.05)


def record_fields(c: Circuit | CircuitRecord) -> dict[str, Any]:
    """What makes two registrations the same circuit, besides the weights."""
    return {"signature": c.signature, "contract": c.contract, "task": c.task, "config": c.config}


def merge_certificates(
    s: Session, row: Circuit, certificates: Iterable[Certification | CertificateRecord]
) -> int:
    """Add the certificates `row` does not have yet (same time, method, accuracy and coverage); count
    them. Each is checked as a new one would be, against this row's weights."""
    have = {
        (aware(c.created), c.method, c.accuracy, _covered(c))
        for c in s.scalars(select(Certificate).where(Certificate.circuit_id == row.id))
    }
    added = 0
    for c in certificates:
        created = getattr(c, "created", None) or utcnow()
        if (created, c.method, c.accuracy, c.n_checked) not in have:
            s.add(_certificate_row(row, c, created))
            added += 1
    s.flush()
    return added


def _covered(row: Certificate) -> int | None:
    """How many inputs a stored certificate covers (NULL for a whole domain: its size is text)."""
    return int(row.domain_size) if row.method in ("exhaustive", "bounds") else row.n_checked


def _certificate_row(row: Circuit, c: Certification, created: datetime) -> Certificate:
    check_certification(c, row.weights_sha256)
    # a whole-domain certificate covers domain_size inputs, which can pass 64 bits (10^25 grids):
    # stored as NULL, read back as the (text-stored) domain size
    n_checked = None if c.method in ("exhaustive", "bounds") else c.n_checked
    return Certificate(
        circuit_id=row.id,
        domain_size=str(c.domain_size),
        n_checked=n_checked,
        sampled=c.sampled,
        accuracy=float(c.accuracy),
        counterexamples=list(c.counterexamples)[:MAX_COUNTEREXAMPLES],
        created=created,
        method=c.method,
        weights_sha256=c.weights_sha256,
        precision=c.precision,
        backend=c.backend,
        min_margin=c.min_margin,
        seconds=c.seconds,
        samples=[x.to_dict() for x in c.samples],
        uncovered=list(c.uncovered),
    )


def merge_extractions(s: Session, row: Circuit, extractions: Iterable[ExtractionRecord]) -> None:
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


def circuit_record(row: Circuit) -> CircuitRecord:
    where = f"circuit row #{row.id} ({row.name!r})"
    if not isinstance(row.config, dict):
        raise CatalogError(f"{where}: config is not a JSON object")
    if row.n_params is not None and (isinstance(row.n_params, bool) or not isinstance(row.n_params, int)):
        raise CatalogError(f"{where}: n_params is not an integer")
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
    record = _certificate_fields(circuit, row)
    try:
        check_certification(record, stored=True)  # a hand-edited row is refused like an import
    except CatalogError as exc:
        raise CatalogError(f"certificate row #{row.id} of {circuit.name}@{circuit.version}: {exc}") from None
    return record


def _certificate_fields(circuit: Circuit, row: Certificate) -> CertificateRecord:
    return CertificateRecord(
        circuit=circuit.name,
        version=circuit.version,
        method=row.method,
        domain_size=int(row.domain_size),
        n_checked=_covered(row),
        accuracy=row.accuracy,
        weights_sha256=row.weights_sha256,
        precision=row.precision,
        backend=row.backend,
        min_margin=row.min_margin,
        seconds=row.seconds,
        counterexamples=row.counterexamples,
        samples=samples_from_json(row.samples),
        uncovered=row.uncovered or [],
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
        circuit=circuit_record(circuit).ref if circuit else None,
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
