"""A real SQLite catalog holding the colour circuits the session's `color_provider` trained, and small
circuits trained here in seconds on domains small enough to enumerate (the bounds prover's
cross-check and the per-distribution evaluation)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from circ.circuit.config import ModelConfig
from circ.learn.catalog import Catalog
from circ.learn.data import get_task
from circ.learn.data.task import Task
from circ.learn.model import CircuitTransformer, build_model
from circ.learn.run import OptimConfig, Run
from circ.learn.train import train

from support import TRAINED, register_model


def register(catalog: Catalog, tmp_path: Path, name: str, task: str, model: torch.nn.Module) -> None:
    register_model(catalog, name, get_task(task).key, model)


def noisy(model: torch.nn.Module) -> torch.nn.Module:
    """A copy with Gaussian noise of half each tensor's spread (tests/runtime/test_certify.py's pattern)."""
    copy = build_model(model.cfg, seed=0)
    copy.load_state_dict(model.state_dict())
    with torch.no_grad():
        generator = torch.Generator().manual_seed(1)
        for p in copy.parameters():
            p.add_(torch.randn(p.shape, generator=generator) * 0.5 * p.std())
    return copy.eval()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'catalog.db'}"


@pytest.fixture
def catalog(tmp_path: Path, db_url: str, color_provider):
    """`t.add` and `t.max`, registered without certificates."""
    with Catalog(db_url, tmp_path / "blobs") as opened:
        for name, task in TRAINED.items():
            register(opened, tmp_path, name, task, color_provider.models[name].model)
        yield opened


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def trained(task: Task, steps: int, **sizes: int) -> CircuitTransformer:
    config = ModelConfig.for_interface(task.interface, **{"d_model": 32, "n_heads": 2, "d_mlp": 64, **sizes})
    run = Run(
        task=task.name,
        params=task.params,
        model=config,
        optim=OptimConfig(lr=1e-2, weight_decay=0.1),
        steps=steps,
        frac=1.0,
        margin=2.0,
    )
    (result,) = train([run])
    model = CircuitTransformer(config)
    model.load_state_dict(result.state)
    return model.eval()


@pytest.fixture(scope="session")
def reverse3() -> tuple[Task, CircuitTransformer]:
    """Seq[Color, 3] reversal, one layer, no LayerNorm: 1,000 inputs."""
    torch.set_num_threads(1)
    task = get_task("seq_reverse", n=3)
    return task, trained(task, 200)


@pytest.fixture(scope="session")
def reverse3_deep() -> tuple[Task, CircuitTransformer]:
    """The same task on two layers with LayerNorm: the interval bounder's case."""
    torch.set_num_threads(1)
    task = get_task("seq_reverse", n=3)
    return task, trained(task, 60, n_layers=2, layernorm=True)  # soundness needs no accuracy
