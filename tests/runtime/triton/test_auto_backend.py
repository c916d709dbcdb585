"""`--backend auto` by measurement (`circ.auto_backend`): the faster of the backends that agree with
torch, never one that disagrees or fails; nothing measured where only torch can run."""

from __future__ import annotations

import networkx as nx
import pytest
import torch

from circ import api
from circ.auto_backend import TIMINGS, Choice, candidates, choose
from circ.runtime.backends import interpreting
from circ.runtime.execute import Prepared
from circ.runtime.torch_backend import TorchBackend
from circ.runtime.triton_backend import TritonBackend

from support import EXAMPLES, random_batch

DEVICE = "cpu" if interpreting() else "cuda"


@pytest.fixture(scope="module")
def affine():
    compiled = api.compile(EXAMPLES / "affine.circ")
    return compiled, random_batch(list(compiled.params), 12, seed=3)


class _Wrong(TorchBackend):
    """Answers one more than torch: a backend whose kernels are wrong on this chip."""

    def prepare(self, graph: nx.MultiDiGraph) -> Prepared:
        prepared = super().prepare(graph)
        right = prepared.call

        def wrong(node: int, values: list[torch.Tensor], rows: int) -> tuple[torch.Tensor, torch.Tensor]:
            value, confidence = right(node, values, rows)
            return value + 1, confidence

        prepared.call = wrong  # type: ignore[method-assign]
        return prepared


class _Broken(TorchBackend):
    def prepare(self, graph: nx.MultiDiGraph) -> Prepared:
        raise RuntimeError("no kernel for this shape")


def test_the_faster_of_the_backends_that_agree_is_chosen(affine, stdlib_provider, tmp_path) -> None:
    compiled, sample = affine
    backends = {
        "torch": TorchBackend(stdlib_provider),
        "triton": TritonBackend(stdlib_provider, DEVICE, cache_dir=tmp_path),
    }
    choice = choose(compiled.optimized, sample, backends)
    assert set(choice.seconds) == {"torch", "triton"} and not choice.refused
    assert choice.name == min(choice.seconds, key=choice.seconds.__getitem__)
    assert choice.rows == 12 and choice.backend is backends[choice.name]
    assert choice.summary().startswith(f"auto: {choice.name} (") and " over " in choice.summary()


def test_a_backend_that_disagrees_or_fails_is_never_chosen(affine, stdlib_provider) -> None:
    compiled, sample = affine
    backends = {
        "torch": TorchBackend(stdlib_provider),
        "wrong": _Wrong(stdlib_provider),
        "broken": _Broken(stdlib_provider),
    }
    choice = choose(compiled.optimized, sample, backends)
    assert choice.name == "torch" and set(choice.seconds) == {"torch"}
    assert choice.refused == {
        "wrong": "its outputs differ from torch's",
        "broken": "RuntimeError: no kernel for this shape",
    }
    assert "wrong not used: its outputs differ" in choice.summary()


def test_torchs_own_error_is_raised_not_reported(affine, stdlib_provider) -> None:
    compiled, sample = affine
    with pytest.raises(RuntimeError, match="no kernel"):
        choose(compiled.optimized, sample, {"torch": _Broken(stdlib_provider)})


def test_where_only_torch_runs_nothing_is_measured(affine, stdlib_provider) -> None:
    compiled, sample = affine
    assert candidates("cpu") == ["torch"]
    assert api.choose_backend(compiled, sample, stdlib_provider, "cpu") == Choice("torch")
    ran = api.run(compiled, sample, stdlib_provider, backend="auto")
    expected = api.run(compiled, sample, stdlib_provider, backend="torch")
    assert torch.equal(ran.execution.output, expected.execution.output)


class _Counted(TorchBackend):
    """Counts the graphs it prepares: a backend built again would start at zero."""

    prepared = 0

    def prepare(self, graph: nx.MultiDiGraph) -> Prepared:
        self.prepared += 1
        return super().prepare(graph)


def test_the_backend_measured_is_the_one_that_runs(affine, stdlib_provider) -> None:
    compiled, sample = affine
    measured = _Counted(stdlib_provider)
    choice = choose(compiled.optimized, sample, {"torch": measured})
    assert choice.backend is measured and measured.prepared == 1 + 1 + TIMINGS
    ran = api.run(compiled, sample, stdlib_provider, backend=choice.backend)
    row = api.Inputs(("x=3",))
    (chunk,) = api.run_chunks(compiled, row, stdlib_provider, choice.backend)
    assert measured.prepared == 4 + TIMINGS and chunk.execution.output.tolist() == [[14]]
    expected = api.run(compiled, sample, stdlib_provider, backend="torch")
    assert torch.equal(ran.execution.output, expected.execution.output)


def test_auto_builds_each_backend_once(affine, stdlib_provider, monkeypatch) -> None:
    """Where two backends can run (here: the interpreter's triton, as on a GPU), `auto` builds each
    once to measure, then runs the one it chose as built."""
    from circ import auto_backend
    from circ.runtime import backends

    built: list[str] = []
    make = backends.make_backend

    def counted(name: str, *args: object, **kwargs: object) -> object:
        built.append(name)
        return make(name, *args, **kwargs)

    monkeypatch.setattr(auto_backend, "candidates", lambda device: ["torch", "triton"])
    monkeypatch.setattr(backends, "make_backend", counted)
    compiled, sample = affine
    ran = api.run(compiled, sample, stdlib_provider, backend="auto", device=DEVICE)
    assert sorted(built) == ["torch", "triton"]
    expected = api.run(compiled, sample, stdlib_provider, backend="torch")
    assert torch.equal(ran.execution.output.cpu(), expected.execution.output)
