"""Generated kernel source → a launchable triton.jit function.

Triton reads a kernel's source with `inspect`, so generated code must live in a real file: each
source is written once under `cache_dir`, named by its hash, and imported from there."""

from __future__ import annotations

import hashlib
import importlib.util
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "circ-kernels"


def build(name: str, source: str, cache_dir: Path = DEFAULT_CACHE) -> Any:
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    module_name = f"circ_kernel_{digest}"
    path = cache_dir / f"{module_name}.py"
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{digest}.tmp")
        tmp.write_text(source)
        tmp.replace(path)  # atomic: a concurrent build never imports half a file
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)
