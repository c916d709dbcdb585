"""Backend selection by name."""

from __future__ import annotations

import pytest

from circ.circuit.provider import ModelsProvider
from circ.runtime.backends import BackendUnavailable, make_backend
from circ.runtime.torch_backend import TorchBackend


def test_auto_is_refused_here_because_only_the_api_measures_it() -> None:
    for device in ("cpu", "meta"):
        with pytest.raises(ValueError, match=r"circ\.api\.run\(\.\.\., backend='auto'\)"):
            make_backend("auto", ModelsProvider({}), device)


def test_torch_is_the_reference_backend() -> None:
    assert isinstance(make_backend("torch", ModelsProvider({}), "cpu"), TorchBackend)


def test_triton_on_cpu_needs_the_interpreter(monkeypatch) -> None:
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(BackendUnavailable, match="needs a CUDA GPU"):
        make_backend("triton", ModelsProvider({}), "cpu")


def test_an_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"backends: torch, triton\)"):
        make_backend("jax", ModelsProvider({}), "cpu")
