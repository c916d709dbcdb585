"""A real SQLite catalog holding the colour circuits the session's `color_provider` trained."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from circ.learn.catalog import Catalog
from circ.learn.data import get_task
from circ.learn.model import build_model

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
