"""What the catalog hands out: plain frozen records (never live ORM rows) and its errors.

Callers never see a session, so nothing they hold can lazy-load, expire, or write by accident.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from circ.lang.errors import UserError


class CatalogError(UserError):
    """A catalog problem a user can cause or fix (bad URL, bad manifest, bad field); one clean line."""


class UnknownCircuitError(CatalogError):
    """A name (or name@version) that is not catalogued; carries the closest known names."""

    def __init__(
        self, name: str, known: Iterable[str], version: int | None = None, versions: Iterable[int] = ()
    ) -> None:
        self.name = name
        self.close = tuple(difflib.get_close_matches(name, sorted(set(known)), n=3, cutoff=0.5))
        versions = sorted(versions)
        if version is not None and versions:
            listed = ", ".join(map(str, versions))
            message = f"circuit {name!r} has no version {version} (versions: {listed})"
        elif self.close:
            message = f"unknown circuit {name!r}; did you mean {', '.join(map(repr, self.close))}?"
        else:
            message = f"unknown circuit {name!r}; `circ catalog list` shows the catalogued circuits"
        super().__init__(message)


@dataclass(frozen=True)
class CircuitRecord:
    name: str
    version: int  # registering a changed circuit under a used name adds a version; `get` gives the latest
    signature: str  # e.g. "add(a: Mod[97], b: Mod[97]) -> Mod[97]"
    contract: str  # its `requires`/`ensures` clauses, as written
    task: str  # the learn task key it was trained on, e.g. "mod_add[p=97]"
    config: dict[str, Any]  # the ModelConfig, as in the weights' safetensors metadata
    weights_sha256: str
    n_params: int | None  # None for rows from schema version 1
    created: datetime
    source: str = "user"  # "user": the read-write database; "stdlib": the packaged read-only catalog
    id: int | None = None  # database id (None for stdlib circuits)

    @property
    def ref(self) -> str:
        """`name@version`: pins this exact circuit (`Catalog.get` accepts it)."""
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class TrainingRunRecord:
    id: int
    task: str
    config: dict[str, Any]
    seed: int
    curves: Any  # JSON (e.g. circ.learn.curves' dict of lists); None until there are some
    status: str
    circuit: str | None  # the `name@version` the run produced, if registered
    created: datetime


@dataclass(frozen=True)
class ExtractionRecord:
    id: int | None  # None for one that ships in a packaged catalog's manifest
    circuit: str
    version: int
    method: str  # e.g. "prune", "transcoder", "attribution"
    artefact_sha256: str
    summary: dict[str, Any]
    created: datetime


@dataclass(frozen=True)
class ImportResult:
    circuits: tuple[CircuitRecord, ...]  # as now registered, in manifest order
    new: int  # how many of them were new circuits or versions
    certificates: int  # certificates added


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite drops the zone; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_ref(ref: str) -> tuple[str, int | None]:
    """`name` or `name@version`."""
    name, at, version = ref.partition("@")
    if not at:
        return ref, None
    if not version.isdigit():
        raise CatalogError(f"bad circuit reference {ref!r}: expected NAME or NAME@VERSION")
    return name, int(version)


def sqlite_path(url: str) -> Path | None:
    """The file behind a `sqlite:///…` URL; None for in-memory SQLite or another database."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None
