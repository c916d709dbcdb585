"""The circuit weight format: a safetensors file whose metadata names the format, the `ModelConfig`
(JSON) and anything else the writer records (e.g. the task it was trained on).

`read_header` reads what a file claims about itself from its header alone — no tensors, no torch — so
the catalog can check a blob against its record when it registers or loads one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from circ.lang.errors import UserError

FORMAT = "circ.circuit/1"
MAX_HEADER = 1 << 24  # a circuit's header lists a few dozen tensors; more is not a circuit file


class WeightsError(UserError):
    """Bytes that are not a circ circuit file."""


@dataclass(frozen=True)
class WeightsHeader:
    config: dict[str, Any]  # the ModelConfig as stored (validate with ModelConfig.from_dict)
    n_params: int
    shapes: dict[str, tuple[int, ...]]  # tensor name → shape
    metadata: dict[str, str]  # every metadata string, "format" and "config" included


def canonical(data: bytes) -> bytes:
    """The same file with its header written one way (keys sorted, no spaces, padded to 8 bytes):
    safetensors writes its metadata map in an order that changes from process to process, so the
    bytes — and the sha256 that names a blob — would otherwise differ for the same weights."""
    read_header(data)  # a circ circuit file, or a WeightsError
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + data[8 + size :]


def read_header(data: bytes) -> WeightsHeader:
    """What a circuit safetensors file says about itself; `WeightsError` when it is not one."""
    try:
        if len(data) < 8:
            raise ValueError("truncated header")
        size = int.from_bytes(data[:8], "little")
        if size > min(len(data) - 8, MAX_HEADER):
            raise ValueError("truncated header")
        header = json.loads(data[8 : 8 + size])
        if not isinstance(header, dict):
            raise ValueError("the header is not an object")
        meta = header.pop("__metadata__", None) or {}
        if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
            raise ValueError("__metadata__ is not a map of strings")
        if meta.get("format") != FORMAT:
            raise WeightsError(f"weights: not a circ circuit (format {meta.get('format')!r})")
        config = json.loads(meta["config"])
        if not isinstance(config, dict):
            raise ValueError("config is not an object")
        shapes = {name: tuple(int(n) for n in t["shape"]) for name, t in header.items()}
    except WeightsError:
        raise
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise WeightsError(f"weights: not a circ circuit safetensors file ({exc})") from None
    n_params = sum(math.prod(shape) for shape in shapes.values())
    return WeightsHeader(config, n_params, shapes, dict(meta))
