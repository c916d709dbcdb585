"""Backend selection by name."""

from __future__ import annotations

import pytest
import torch

from circ.circuit.provider import ModelsProvider
from circ.runtime.backends import BackendUnavailable, make_backend
from circ.runtime.torch_backend import TorchBackend


@pytest.mark.skipif(torch.cuda.is_available(), reason="auto picks triton on a GPU")
def test_auto_is_torch_on_cpu_even_under_the_interpreter(monkeypatch) -> None:
    for interpret in ("0", "1"):
        monkeypatch.setenv("TRITON_INTERPRET", interpret)
        assert isinstance(make_backend("auto", ModelsProvider({}), "cpu"), TorchBackend)


def test_triton_on_cpu_needs_the_interpreter(monkeypatch) -> None:
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(BackendUnavailable, match="needs a CUDA GPU"):
        make_backend("triton", ModelsProvider({}), "cpu")


def test_an_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="torch, triton, auto"):
        make_backend("jax", ModelsProvider({}), "cpu")
