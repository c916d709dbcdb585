"""Group checkpoints: everything needed to continue a training group bit-identically.

A checkpoint holds the runs it belongs to (to refuse resuming a different group), the step, the
active members' stacked weights, AdamW's state, each member's minibatch generator state, curves so
far, and the final weights of members that already stopped. Written atomically (temp + rename), so a
kill mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from circ.lang.errors import ConfigError
from circ.learn.atomic import write_atomic

VERSION = 1


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    torch.save({"version": VERSION, **state}, buffer)
    write_atomic(path, buffer.getvalue())


def load_checkpoint(path: Path) -> dict[str, Any] | None:
    """The checkpoint at `path`, or None if there is none."""
    if not path.exists():
        return None
    if not path.is_file():
        raise ConfigError("resume", f"{path}: not a checkpoint file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # empty, truncated, or not a torch file at all: name it, never a traceback
        raise ConfigError("resume", f"{path}: not a readable checkpoint ({type(exc).__name__})") from None
    if not isinstance(state, dict) or state.get("version") != VERSION:
        version = state.get("version") if isinstance(state, dict) else None
        raise ConfigError("resume", f"{path}: checkpoint version {version}, expected {VERSION}")
    return state
