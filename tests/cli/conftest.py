"""A real catalog in SQLite holding the two colour circuits the session trains (`color_provider`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from circ.learn.catalog import Catalog
from circ.learn.data import get_task
from circ.learn.model import save_weights

from support import TRAINED


@pytest.fixture
def trained_catalog(tmp_path: Path, color_provider) -> str:
    """The URL of a catalog with `t.add` and `t.max` registered (their tasks: color_add, color_max)."""
    url = f"sqlite:///{tmp_path / 'trained.db'}"
    with Catalog(url, tmp_path / "blobs") as catalog:  # where Settings looks: beside the database
        for name, task in TRAINED.items():
            model = color_provider.models[name].model
            path = tmp_path / f"{name}.safetensors"
            save_weights(path, model.state_dict(), model.cfg, {"task": task})
            catalog.register_circuit(name, get_task(task).signature, "", task, None, path.read_bytes())
    return url


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Circuits run on one thread: two threads on the shared 2-core machine can be 6× slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
