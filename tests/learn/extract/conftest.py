"""Fixtures for extraction tests: shipped stdlib circuits (real, certified on their whole domain) and
a two-layer colour circuit trained here in a few seconds (the stdlib has only one-layer circuits)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from circ.circuit.config import ModelConfig
from circ.learn.catalog import Catalog
from circ.learn.data import get_task, task_from_key
from circ.learn.extract.domain import Domain, whole_domain
from circ.learn.model import CircuitTransformer
from circ.learn.run import OptimConfig, Run
from circ.learn.train import train
from circ.settings import packaged_catalog_dir


@pytest.fixture(scope="session", autouse=True)
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small models on a shared CPU: one thread is faster
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def stdlib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    """The shipped catalog, read through an empty in-memory database."""
    with Catalog("sqlite://", tmp_path_factory.mktemp("blobs"), packaged=packaged_catalog_dir()) as catalog:
        yield catalog


@pytest.fixture(scope="session")
def load(stdlib: Catalog):
    """load(name) → (the stdlib circuit's model, its task's whole domain)."""

    def circuit(name: str) -> tuple[CircuitTransformer, Domain]:
        return stdlib.load_model(name), whole_domain(task_from_key(stdlib.get(name).task))

    return circuit


@pytest.fixture(scope="session")
def two_layer() -> tuple[CircuitTransformer, Domain]:
    """color_add with two layers, trained until right on all 100 inputs (seeded: deterministic)."""
    task = get_task("color_add")
    cfg = ModelConfig.for_interface(task.interface, d_model=32, n_heads=2, d_mlp=32, n_layers=2)
    run = Run(
        task="color_add",
        model=cfg,
        optim=OptimConfig(lr=1e-2, weight_decay=0.1),
        seed=0,
        steps=800,
        frac=1.0,
        target_acc=1.0,
        eval_every=20,
    )
    (result,) = train([run])
    model = CircuitTransformer(cfg)
    model.load_state_dict(result.state)
    return model.eval(), whole_domain(task)
