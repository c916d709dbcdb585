"""Group checkpoints: everything needed to continue a training group bit-identically.

A checkpoint holds the runs it belongs to (to refuse resuming a different group), the step, the
active members' stacked weights, AdamW's state, each member's minibatch generator state, curves so
far, and the final weights of members that already stopped. Written atomically (temp + rename), so a
kill mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

VERSION = 1


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"version": VERSION, **state}, tmp)
    tmp.replace(path)


def load_checkpoint(path: Path) -> dict[str, Any] | None:
    """The checkpoint at `path`, or None if there is none."""
    if not path.exists():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("version") != VERSION:
        raise ValueError(f"{path}: checkpoint version {state.get('version')}, expected {VERSION}")
    return state
