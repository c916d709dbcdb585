"""Every file circ writes goes through here: a uniquely named temp file beside the target, then a
rename. A reader (or a crash) never sees half a file, and two processes writing the same path never
share a temp name (a fixed `<name>.tmp` collides)."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def save_figure(fig: Any, path: Path, **options: Any) -> None:
    """A matplotlib figure, rendered in memory (format from the suffix), then written atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix.lstrip(".") or "png", **options)
    write_atomic(path, buffer.getvalue())
