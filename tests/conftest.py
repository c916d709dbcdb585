"""Shared fixtures, among them real circuits: two tiny colour circuits trained here in about a second."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from circ.circuit.config import ModelConfig
from circ.circuit.provider import LoadedCircuit, ModelsProvider
from circ.learn.data import get_task
from circ.learn.model import CircuitTransformer
from circ.learn.run import OptimConfig, Run
from circ.learn.train import train

from support import EXAMPLES, TRAINED


@pytest.fixture(autouse=True)
def _nothing_left_frozen() -> Iterator[None]:
    """The CLI freezes what its imports made (circ/collector.py): right for a process that ends
    with its command, but in the suite's one process it would keep earlier tests' garbage for good."""
    yield
    gc.unfreeze()


@pytest.fixture
def in_examples(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from examples/, so diagnostics show paths as a user there would see them."""
    monkeypatch.chdir(EXAMPLES)
    return EXAMPLES


@pytest.fixture(scope="session")
def color_provider() -> ModelsProvider:
    runs = []
    for task in TRAINED.values():
        config = ModelConfig.for_interface(get_task(task).interface, d_model=32, n_heads=2, d_mlp=64)
        optim = OptimConfig(lr=1e-2, weight_decay=0.1)
        runs.append(
            Run(
                task=task,
                model=config,
                optim=optim,
                seed=0,
                steps=800,
                frac=1.0,
                target_acc=1.0,
                eval_every=20,
            )
        )
    models = {}
    for (name, task), result in zip(TRAINED.items(), train(runs), strict=True):
        model = CircuitTransformer(result.run.model)
        model.load_state_dict(result.state)
        models[name] = LoadedCircuit(get_task(task).interface, model.eval())
    with torch.no_grad():  # the tests rely on these being exact on their whole (tiny) domain
        for name, task in TRAINED.items():
            iface = models[name].interface
            a, b = torch.meshgrid(torch.arange(10), torch.arange(10), indexing="ij")
            tokens = torch.stack([a.flatten(), b.flatten(), torch.full((100,), iface.query_token)], dim=1)
            got = models[name].model(tokens).argmax(-1)[:, 0]
            want = (a + b).flatten() % 10 if task == "color_add" else torch.maximum(a, b).flatten()
            # seeded training on CPU is deterministic: this either always holds or always fails
            assert torch.equal(got, want), f"{task} is not exact on its domain: retune the fixture"
    return ModelsProvider(models)


@pytest.fixture(scope="session")
def stdlib_provider(tmp_path_factory: pytest.TempPathFactory):
    """The circuits that ship in stdlib/catalog (an empty in-memory catalog in front of them)."""
    from circ.learn.catalog import Catalog
    from circ.learn.catalog.provider import CatalogProvider
    from circ.settings import packaged_catalog_dir

    with Catalog("sqlite://", tmp_path_factory.mktemp("blobs"), packaged=packaged_catalog_dir()) as catalog:
        yield CatalogProvider(catalog)
