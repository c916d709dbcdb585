"""The torch backend's path for a GPU (any device but the CPU), run on PyTorch's meta device, whose
tensors have shapes and no data: a host sync (`.item()`, `bool(t)`, `.tolist()`, `nonzero`,
`unique`) raises there, so every example running to its end shows that the path makes none. A
dispatch mode sees every copy from the host: past the weights, loaded once, only the inputs cross,
once a chunk; constants and token shifts are made once a run, however many chunks it has (issue 19)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from circ import api
from circ.lang import types as T
from circ.runtime import torch_backend
from circ.runtime.execute import execute
from circ.runtime.torch_backend import TorchBackend

from support import example_files, random_batch, shipped_or_skip

META = torch.device("meta")
ROWS, CHUNK = 100, 32  # four chunks


class HostCopies(TorchDispatchMode):
    """Counts the ops that read a host (CPU) tensor and write a meta one."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        out = func(*args, **(kwargs or {}))
        read = [t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
        wrote = [t for t in tree_leaves(out) if isinstance(t, torch.Tensor)]
        if any(t.device.type == "cpu" for t in read) and any(t.device == META for t in wrote):
            self.count += 1
        return out


def counting_tensor(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """`torch.tensor` calls that make a meta tensor from Python data (invisible to a dispatch mode)."""
    made, original = [0], torch.tensor

    def tensor(*args: Any, **kwargs: Any) -> torch.Tensor:
        out: torch.Tensor = original(*args, **kwargs)
        made[0] += out.device == META
        return out

    monkeypatch.setattr(torch, "tensor", tensor)
    return made


def run(compiled: api.Compiled, provider: Any, batch: list[torch.Tensor], chunk: int) -> tuple[Any, int]:
    torch_backend._shift.cache_clear()  # each run makes its shifts afresh, so the counts compare
    with HostCopies() as copies:
        execution = execute(compiled.optimized, batch, TorchBackend(provider, META, chunk_rows=chunk))
    return execution, copies.count


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_the_device_path_runs_every_example_without_a_host_sync(path, stdlib_provider, monkeypatch) -> None:
    compiled = api.compile(path)
    shipped_or_skip(compiled.optimized, stdlib_provider)
    params = list(compiled.checked.function("main").signature.params)
    batch = random_batch(params, ROWS)
    made = counting_tensor(monkeypatch)
    whole, whole_copies = run(compiled, stdlib_provider, batch, ROWS)
    made_whole, made[0] = made[0], 0
    chunked, chunked_copies = run(compiled, stdlib_provider, batch, CHUNK)
    width = len(T.parts(compiled.checked.function("main").signature.result))
    for execution in (whole, chunked):
        assert execution.output.device == META
        assert execution.output.shape == (ROWS, width)
        assert all(c.shape == (ROWS,) for c in execution.confidence.values())
    chunks = -(-ROWS // CHUNK)
    # loading the weights copies them once a run; past that, each chunk copies its inputs only
    assert chunked_copies - whole_copies == (chunks - 1) * len(batch)
    assert made[0] == made_whole  # nothing made from Python data per chunk


def test_a_host_sync_on_the_device_path_would_fail_it(stdlib_provider, monkeypatch) -> None:
    """The check above can fail: a decode that reads a confidence back to the host raises on meta."""
    compiled = api.compile(example_files()[0])
    batch = random_batch(list(compiled.checked.function("main").signature.params), ROWS)
    decode: Callable = torch_backend.decode

    def syncing(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        decoded, sure = decode(logits)
        float(sure.min())  # what a "least confidence so far" readout would do
        return decoded, sure

    monkeypatch.setattr(torch_backend, "decode", syncing)
    with pytest.raises(RuntimeError, match="meta"):
        run(compiled, stdlib_provider, batch, CHUNK)
