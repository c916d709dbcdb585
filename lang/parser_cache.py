"""The LALR parser, built once per grammar and kept in a private per-user cache between processes.

Building the tables takes ~100–270 ms, more than the rest of `circ check`. The cache holds a pickle,
and unpickling runs code, so it is read only from a directory this user owns and nobody else can
write (made 0700), under a name that is the hash of the grammar and the Lark version; it is written
atomically (unique temp file + rename). Anything unexpected — a foreign or shared directory, an
unreadable or stale file, no writable home — means the parser is built here, as without a cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import lark
from lark import Lark


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "circ"


def private_dir(path: Path) -> bool:
    """Whether `path` is a directory of this user's that no one else can write to (POSIX)."""
    try:
        info = path.lstat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return False
    if os.name != "posix":
        return True
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def cached_parser(grammar_text: str, build: Callable[[], Lark], directory: Path | None = None) -> Lark:
    """`build()`'s parser, loaded from the cache when a matching one is there, else built and saved."""
    directory = directory or cache_dir()
    key = hashlib.sha256(f"{lark.__version__}\n{grammar_text}".encode()).hexdigest()[:24]
    path = directory / f"parser-{key}.pickle"
    with contextlib.suppress(OSError):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not private_dir(directory):
        return build()
    try:
        with path.open("rb") as f:
            return Lark.load(f)
    except Exception:  # missing, partial, stale or corrupt: build it (and replace it below)
        pass
    parser = build()
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".parser.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                parser.save(f)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:  # a full or read-only disk costs only the cache
        pass
    return parser
