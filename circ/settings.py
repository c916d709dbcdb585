"""Where circ keeps its state and what it runs on: one `Settings`, built once, then passed down.

STYLE 8: no module-level engines or paths. The CLI builds `Settings.from_env(...)` from its flags and
the environment; library code takes the `Settings` (or the plain values in it) as an argument.

Environment (flags win over these):
    CIRC_HOME             data directory (default: the per-user data dir, e.g. ~/.local/share/circ)
    CIRC_DB               catalog database URL (default: sqlite:///<data dir>/catalog.db)
    CIRC_DEVICE           torch device, or `auto` (cuda when available, else cpu); default auto
    CIRC_STDLIB_CATALOG   the read-only packaged catalog (default: stdlib/catalog in the install)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from circ.learn.catalog import Catalog, PackagedCatalog


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    db_url: str
    device: str = "auto"
    stdlib_catalog: Path | None = None  # None: no packaged fallback

    @classmethod
    def from_env(
        cls,
        db: str | None = None,
        data_dir: str | Path | None = None,
        device: str | None = None,
        stdlib_catalog: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Flags first, then `CIRC_*` variables, then defaults. `environ` defaults to `os.environ`."""
        env = os.environ if environ is None else environ
        home = Path(data_dir or env.get("CIRC_HOME") or user_data_dir(env)).expanduser()
        url = db or env.get("CIRC_DB") or f"sqlite:///{home / 'catalog.db'}"
        packaged = stdlib_catalog or env.get("CIRC_STDLIB_CATALOG") or packaged_catalog_dir()
        return cls(
            data_dir=home,
            db_url=url,
            device=device or env.get("CIRC_DEVICE") or "auto",
            stdlib_catalog=Path(packaged),
        )

    @property
    def blob_dir(self) -> Path:
        """Weights live beside the database file (DESIGN §7), or in the data dir for a server URL."""
        from circ.learn.catalog.records import sqlite_path

        db_file = sqlite_path(self.db_url)
        return (db_file.parent if db_file else self.data_dir) / "blobs"

    def open_reader(self) -> Catalog | PackagedCatalog:
        """For reads only (`circ run`): the catalog, or just the packaged stdlib while the user's
        SQLite database does not exist yet — the same answers, without importing SQLAlchemy."""
        from circ.learn.catalog.manifest import PackagedCatalog
        from circ.learn.catalog.records import sqlite_path

        db_file = sqlite_path(self.db_url)
        if db_file is not None and self.stdlib_catalog is not None and not db_file.exists():
            return PackagedCatalog(self.stdlib_catalog)
        return self.open_catalog()

    def open_catalog(self) -> Catalog:
        """The catalog these settings name; the default data directory is made on first use."""
        from circ.learn.catalog import Catalog
        from circ.learn.catalog.records import sqlite_path

        db_file = sqlite_path(self.db_url)
        if db_file is not None and db_file.parent.resolve() == self.data_dir.resolve():
            self.data_dir.mkdir(parents=True, exist_ok=True)
        return Catalog(self.db_url, self.blob_dir, packaged=self.stdlib_catalog)

    def torch_device(self) -> str:
        """`auto` resolved here, lazily, so reading settings never imports torch."""
        if self.device != "auto":
            return check_device(self.device, "CIRC_DEVICE")
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"


def check_device(name: str, field: str) -> str:
    """A torch device this machine has, or a ConfigError naming `field` (never torch's own error)."""
    import torch

    from circ.lang.errors import ConfigError

    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise ConfigError(field, f"unknown device {name!r} (cpu, cuda, cuda:N or mps)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(field, f"{name}: this machine has no CUDA GPU (torch {torch.__version__})")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ConfigError(field, f"{name}: only {torch.cuda.device_count()} CUDA device(s) here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(field, f"{name}: MPS is not available here")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(field, f"{name}: circ runs on cpu, cuda or mps")
    return name


def user_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """The per-user data dir as platformdirs would compute it (not a dependency for one path)."""
    env = os.environ if env is None else env
    if sys.platform == "win32":
        return Path(env.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "circ"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "circ"
    return Path(env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "circ"


def packaged_catalog_dir() -> Path:
    """`stdlib/catalog` in the installed package: trained weights that ship with circ."""
    import circ.stdlib

    return Path(circ.stdlib.__file__).resolve().parent / "catalog"
