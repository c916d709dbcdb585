"""Generated kernel source → a launchable triton.jit function.

Triton reads a kernel's source with `inspect`, so generated code must live in a real file, which is
then imported: whoever can write that file runs code in this process. So the cache is a directory of
this user's that no one else can write to (made 0700, as the parser's cache), each file is named by
the hash of its source, written atomically under a unique temporary name, and compared with the
source it must hold before it is imported — a file that differs is rewritten, never run.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Any

from circ.lang.errors import UserError
from circ.lang.parser_cache import cache_dir, private_dir

DEFAULT_CACHE = cache_dir() / "kernels"


class KernelCacheError(UserError):
    """The kernel cache directory cannot be trusted (shared or foreign) or written."""


def build(name: str, source: str, cache_dir: Path = DEFAULT_CACHE) -> Any:
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    module_name = f"circ_kernel_{digest}"
    with contextlib.suppress(OSError):
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not private_dir(cache_dir):
        raise KernelCacheError(
            f"kernel cache {cache_dir} is not a directory only you can write to: generated kernels are "
            "imported from it, so it must be (chmod 700, or set XDG_CACHE_HOME)"
        )
    path = cache_dir / f"{module_name}.py"
    if _contents(path) != source:
        _write(path, source)
        if _contents(path) != source:
            raise KernelCacheError(f"kernel cache {path} does not hold the kernel just written")
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def _contents(path: Path) -> str | None:
    try:
        if path.is_symlink() or not path.is_file():
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _write(path: Path, source: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(source)
        os.replace(tmp, path)  # atomic: a concurrent build never imports half a file
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
