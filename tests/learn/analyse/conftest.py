"""Fixtures for the analysis tests: one torch thread, and the shipped stdlib circuits (read-only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from circ.learn.catalog import Catalog
from circ.settings import packaged_catalog_dir


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def stdlib_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    """An empty in-memory user catalog in front of stdlib/catalog (which the tests never write)."""
    blobs: Path = tmp_path_factory.mktemp("blobs")
    with Catalog("sqlite://", blobs, packaged=packaged_catalog_dir()) as catalog:
        yield catalog
