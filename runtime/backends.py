"""Choosing a backend by name (`circ run --backend torch|triton|auto`)."""

from __future__ import annotations

import torch

from circ.runtime.provider import CircuitProvider
from circ.runtime.torch_backend import TorchBackend
from circ.runtime.triton_backend import BackendUnavailable, TritonBackend, check_available

BACKENDS = ("torch", "triton", "auto")


def make_backend(name: str, provider: CircuitProvider, device: str = "cpu") -> TorchBackend | TritonBackend:
    """`auto` is triton on a CUDA device (when triton is installed), else the torch reference."""
    where = torch.device(device)
    if name == "auto":
        try:
            check_available(where)
            name = "triton" if where.type == "cuda" else "torch"
        except BackendUnavailable:
            name = "torch"
    if name == "torch":
        return TorchBackend(provider, where)
    if name == "triton":
        check_available(where)
        return TritonBackend(provider, where)
    raise ValueError(f"no backend {name!r} (backends: {', '.join(BACKENDS)})")
