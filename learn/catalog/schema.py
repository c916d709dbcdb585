"""The catalog's tables (DESIGN §7), how a database is opened, and how an old one is upgraded.

Migrations are a version table plus ordered upgrade functions (Alembic is more than four tables
need). `migrate` runs on every open: an empty database gets the current schema and is stamped
`SCHEMA_VERSION`; an older one runs `UPGRADES[v - 1]` for each version v it is behind, all in one
transaction. Upgrades are raw SQL frozen at the time they were written; they never use the models
below, which describe only the newest schema.

SQLite (the default) is opened in WAL mode with a busy timeout and foreign keys on, and every
transaction starts with `BEGIN IMMEDIATE`: a writer takes the lock before it reads, so two processes
registering circuits queue up instead of one failing with "database is locked" mid-transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    String,
    Text,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from circ.learn.catalog.records import CatalogError, utcnow

SCHEMA_VERSION = 3
BUSY_TIMEOUT_MS = 30_000  # a writer waits this long for another process's transaction


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


class Circuit(Base):
    __tablename__ = "circuit"
    __table_args__ = (Index("uq_circuit_name_version", "name", "version", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(default=1)
    signature: Mapped[str] = mapped_column(Text)
    contract: Mapped[str] = mapped_column(Text)
    task: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]]
    weights_sha256: Mapped[str] = mapped_column(String(64))
    n_params: Mapped[int | None]
    created: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingRun(Base):
    __tablename__ = "training_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    circuit_id: Mapped[int | None] = mapped_column(ForeignKey("circuit.id", ondelete="SET NULL"))
    task: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]]
    seed: Mapped[int]
    curves: Mapped[Any | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(32))
    created: Mapped[datetime] = mapped_column(default=utcnow)


class Certificate(Base):
    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    circuit_id: Mapped[int] = mapped_column(ForeignKey("circuit.id", ondelete="CASCADE"), index=True)
    domain_size: Mapped[str] = mapped_column(Text)  # decimal digits: Grid domains overflow BIGINT
    n_checked: Mapped[int | None]
    sampled: Mapped[bool]  # method == "sampled" (kept for readers of schema 2)
    accuracy: Mapped[float]
    counterexamples: Mapped[list[Any]]
    created: Mapped[datetime] = mapped_column(default=utcnow)
    # schema 3: what the certificate holds for, and how it was obtained
    method: Mapped[str] = mapped_column(String(16))
    weights_sha256: Mapped[str | None] = mapped_column(String(64))
    precision: Mapped[str] = mapped_column(String(8), default="fp32")
    backend: Mapped[str] = mapped_column(String(16), default="torch")
    min_margin: Mapped[float | None]
    seconds: Mapped[float | None]
    samples: Mapped[list[Any] | None] = mapped_column(JSON)
    uncovered: Mapped[list[Any] | None] = mapped_column(JSON)


class Extraction(Base):
    __tablename__ = "extraction"

    id: Mapped[int] = mapped_column(primary_key=True)
    circuit_id: Mapped[int] = mapped_column(ForeignKey("circuit.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(64))
    artefact_sha256: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]]
    created: Mapped[datetime] = mapped_column(default=utcnow)


def open_engine(url: str, writer: bool = True) -> Engine:
    """An engine for `url`. On SQLite the writer gets WAL, a busy timeout, foreign keys and BEGIN
    IMMEDIATE (it takes the write lock before it reads); a reader begins DEFERRED and never writes,
    so in WAL mode it neither waits for a writer nor needs write access to the file."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_writer if writer else _sqlite_reader)
        begin = "BEGIN IMMEDIATE" if writer else "BEGIN"
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
    return engine


def _sqlite_writer(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # pysqlite's own BEGIN is DEFERRED; the "begin" event owns it
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the writer, nor it them
    cursor.close()


def _sqlite_reader(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


def _stored_version(reader: Engine) -> int | None:
    """The schema version, read without any lock (None: no catalog here yet)."""
    with reader.connect() as conn:
        if not inspect(conn).has_table("schema_version"):
            return None
        return conn.execute(text("SELECT max(version) FROM schema_version")).scalar()


MIGRATION_LOCK = 0x63697263  # 'circ': one advisory lock, so concurrent first opens create the schema once


def migrate(engine: Engine, reader: Engine | None = None) -> int:
    """Bring the database to `SCHEMA_VERSION`; return the version it had (0: it was empty). A
    database already at the current version is only read, so a read-only catalog opens."""
    if reader is not None:
        found = _stored_version(reader)
        if found == SCHEMA_VERSION:
            return found
        if found is not None and found > SCHEMA_VERSION:
            raise CatalogError(
                f"schema version {found} is newer than this circ's ({SCHEMA_VERSION}); upgrade circ"
            )
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE serialises this; a server needs
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})  # a lock
        conn.execute(text("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"))
        found = conn.execute(text("SELECT max(version) FROM schema_version")).scalar()
        if found is None:
            if inspect(conn).has_table("circuit"):
                raise CatalogError("the database has circuit tables but no schema_version table")
            Base.metadata.create_all(conn)
            conn.execute(text("INSERT INTO schema_version (version) VALUES (:v)"), {"v": SCHEMA_VERSION})
            return 0
        if found > SCHEMA_VERSION:
            raise CatalogError(
                f"schema version {found} is newer than this circ's ({SCHEMA_VERSION}); upgrade circ"
            )
        for version in range(found, SCHEMA_VERSION):
            UPGRADES[version - 1](conn)
        conn.execute(text("UPDATE schema_version SET version = :v"), {"v": SCHEMA_VERSION})
        return found


def _v1_to_v2(conn: Connection) -> None:
    """Version 1 was DESIGN §7's first cut: one circuit per name (unique index `ix_circuit_name`) and
    certificates without coverage. Version 2 versions circuits, counts parameters, and records how a
    certificate was checked. A v1 certificate does not say, so it is read as sampled: it does not
    certify a circuit until the circuit is certified again."""
    for statement in (
        "ALTER TABLE circuit ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE circuit ADD COLUMN n_params INTEGER",
        "DROP INDEX ix_circuit_name",
        "CREATE UNIQUE INDEX uq_circuit_name_version ON circuit (name, version)",
        "ALTER TABLE certificate ADD COLUMN n_checked INTEGER",
        "ALTER TABLE certificate ADD COLUMN sampled BOOLEAN NOT NULL DEFAULT TRUE",
    ):
        conn.execute(text(statement))


def _v2_to_v3(conn: Connection) -> None:
    """Version 3 binds each certificate to what it holds for (weights, precision, backend) and says how
    it was obtained (method, margin, time, per-distribution samples, regions a proof left open). A
    circuit row never changes, so a version 2 certificate holds for its row's weights, in fp32 on the
    torch reference; a version 2 sample recorded no distributions, so it carries no error bound."""
    for statement in (
        "ALTER TABLE certificate ADD COLUMN method VARCHAR(16) NOT NULL DEFAULT 'sampled'",
        "ALTER TABLE certificate ADD COLUMN weights_sha256 VARCHAR(64)",
        "ALTER TABLE certificate ADD COLUMN precision VARCHAR(8) NOT NULL DEFAULT 'fp32'",
        "ALTER TABLE certificate ADD COLUMN backend VARCHAR(16) NOT NULL DEFAULT 'torch'",
        "ALTER TABLE certificate ADD COLUMN min_margin FLOAT",
        "ALTER TABLE certificate ADD COLUMN seconds FLOAT",
        "ALTER TABLE certificate ADD COLUMN samples JSON",
        "ALTER TABLE certificate ADD COLUMN uncovered JSON",
        "UPDATE certificate SET method = CASE WHEN sampled THEN 'sampled' ELSE 'exhaustive' END",
        "UPDATE certificate SET weights_sha256 = "
        "(SELECT circuit.weights_sha256 FROM circuit WHERE circuit.id = certificate.circuit_id)",
    ):
        conn.execute(text(statement))


# UPGRADES[v - 1] takes a database from version v to v + 1.
UPGRADES: tuple[Callable[[Connection], None], ...] = (_v1_to_v2, _v2_to_v3)
assert len(UPGRADES) == SCHEMA_VERSION - 1, "each schema version after the first needs an upgrade"
