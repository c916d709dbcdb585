"""A content-addressed file store for weights and artefacts (DESIGN §7).

A blob's name is the sha256 of its bytes: `<root>/<sha[:2]>/<sha>.safetensors` (two-level, so no
directory grows past a few hundred entries). Writes are atomic and durable: temp file in the same
directory, fsync, `os.replace`, fsync the directory, so a crash leaves either no file or the whole
one. Every read re-hashes: a flipped bit or a truncated copy raises `StoreError` instead of loading
a circuit that silently computes something else.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

from circ.lang.errors import UserError

SUFFIX = ".safetensors"
_SHA256 = re.compile(r"[0-9a-f]{64}")


class StoreError(UserError):
    """A blob that cannot be used: missing, corrupted, or unwritable; names its owner and file."""

    def __init__(self, owner: str, path: Path, reason: str) -> None:
        self.owner = owner
        self.path = path
        self.reason = reason
        super().__init__(f"{owner}: {reason}: {path}")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, sha: str) -> Path:
        if not _SHA256.fullmatch(sha):  # also keeps a hand-edited manifest from naming ../../x
            raise ValueError(f"not a sha256 hex digest: {sha!r}")
        return self.root / sha[:2] / f"{sha}{SUFFIX}"

    def has(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def put(self, data: bytes, *, owner: str = "blob") -> str:
        """Store `data`, return its sha256. Idempotent; a corrupted existing copy is rewritten."""
        sha = sha256(data)
        path = self.path(sha)
        with contextlib.suppress(OSError):
            if sha256(path.read_bytes()) == sha:
                return sha
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{sha[:12]}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            _fsync_dir(path.parent)
        except OSError as exc:
            raise StoreError(owner, path, f"cannot write ({exc.strerror or exc})") from exc
        return sha

    def get(self, sha: str, *, owner: str) -> bytes:
        """The bytes named `sha`, hash-checked. `owner` (e.g. "circuit 'mod97.add'") heads any error."""
        path = self.path(sha)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise StoreError(owner, path, "file is missing") from None
        except OSError as exc:
            raise StoreError(owner, path, f"cannot read file ({exc.strerror or exc})") from exc
        actual = sha256(data)
        if actual != sha:
            raise StoreError(owner, path, f"file is corrupted (sha256 {actual[:12]}…, expected {sha[:12]}…)")
        return data

    def shas(self) -> set[str]:
        """Every blob name present (unverified): for pruning an export directory."""
        if not self.root.is_dir():
            return set()
        return {p.name[: -len(SUFFIX)] for p in self.root.glob(f"??/*{SUFFIX}") if _SHA256.fullmatch(p.stem)}

    def remove(self, sha: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(sha).unlink()


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable; not possible (nor needed) on Windows."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
