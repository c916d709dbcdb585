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

SCHEMA_VERSION = 2
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
    sampled: Mapped[bool]
    accuracy: Mapped[float]
    counterexamples: Mapped[list[Any]]
    created: Mapped[datetime] = mapped_column(default=utcnow)


class Extraction(Base):
    __tablename__ = "extraction"

    id: Mapped[int] = mapped_column(primary_key=True)
    circuit_id: Mapped[int] = mapped_column(ForeignKey("circuit.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(64))
    artefact_sha256: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]]
    created: Mapped[datetime] = mapped_column(default=utcnow)


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout, foreign keys and BEGIN IMMEDIATE."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # pysqlite's own BEGIN is DEFERRED; the "begin" event owns it
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the writer, nor it them
    cursor.close()


def migrate(engine: Engine) -> int:
    """Bring the database to `SCHEMA_VERSION`; return the version it had (0: it was empty)."""
    with engine.begin() as conn:
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


# UPGRADES[v - 1] takes a database from version v to v + 1.
UPGRADES: tuple[Callable[[Connection], None], ...] = (_v1_to_v2,)
assert len(UPGRADES) == SCHEMA_VERSION - 1, "each schema version after the first needs an upgrade"
