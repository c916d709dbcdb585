"""The packaged stdlib catalog in a throwaway database: the composed side's real circuits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from circ.learn.catalog import Catalog
from circ.settings import packaged_catalog_dir


@pytest.fixture(scope="module")
def stdlib_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    torch.set_num_threads(1)
    blobs = tmp_path_factory.mktemp("blobs")
    with Catalog("sqlite://", blobs, packaged=packaged_catalog_dir()) as catalog:
        yield catalog
