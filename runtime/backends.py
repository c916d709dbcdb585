"""Building a backend by name (`circ run --backend torch|triton`; `auto` is measured in `circ.api`).

The Triton backend is imported only when it is chosen, so a torch run never loads Triton code."""

from __future__ import annotations

import importlib.util
import os

import torch

from circ.circuit.provider import CircuitProvider
from circ.lang.errors import UserError
from circ.runtime.execute import Backend
from circ.runtime.torch_backend import TorchBackend

BACKENDS = ("torch", "triton")


class BackendUnavailable(UserError):
    """The requested backend cannot run here (no triton, or no GPU and no interpreter)."""


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def check_available(device: torch.device) -> None:
    # the device first: importing triton without TRITON_INTERPRET would fix its helpers as compiled
    if device.type != "cuda" and not interpreting():
        raise BackendUnavailable(
            "the triton backend needs a CUDA GPU (on CPU it runs only under TRITON_INTERPRET=1, for tests)"
        )
    if importlib.util.find_spec("triton") is None:
        raise BackendUnavailable("the triton backend needs the triton package (pip install triton)")


def make_backend(
    name: str, provider: CircuitProvider, device: str = "cpu", chunk_rows: int | None = None
) -> Backend:
    """`chunk_rows`: rows per pass (None: the backend's measured default). `auto` is refused: it is
    chosen by measuring the program's first rows (`circ.api.choose_backend`), which this stage cannot
    do; an unmeasured guess here would run fused kernels never checked on the chip (issue 19)."""
    where = torch.device(device)
    if name == "auto":
        raise ValueError("backend 'auto' is chosen by measurement: circ.api.run(..., backend='auto')")
    if name == "torch":
        return TorchBackend(provider, where, chunk_rows)
    if name == "triton":
        check_available(where)
        from circ.runtime.triton_backend import TritonBackend

        backend = TritonBackend(provider, where)
        backend.chunk_rows = chunk_rows or backend.chunk_rows
        return backend
    raise ValueError(f"no backend {name!r} (backends: {', '.join(BACKENDS)})")
