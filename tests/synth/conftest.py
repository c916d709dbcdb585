"""The shipped stdlib catalog (an empty in-memory catalog in front of it), and specs made from a hidden
program's outputs on the reference semantics (`circ.synth.problems`), as the benchmark makes them."""

from __future__ import annotations

import pytest
import torch

from circ.learn.catalog import Catalog
from circ.settings import packaged_catalog_dir
from circ.synth.problems import Problem, spec_source
from circ.synth.spec import Spec, spec_from_text


@pytest.fixture(scope="session")
def catalog(tmp_path_factory: pytest.TempPathFactory):
    torch.set_num_threads(1)
    with Catalog("sqlite://", tmp_path_factory.mktemp("blobs"), packaged=packaged_catalog_dir()) as opened:
        yield opened


@pytest.fixture
def make_spec(catalog: Catalog):
    def make(problem: Problem, library: str = "") -> Spec:
        return spec_from_text(f"{problem.name}.circ", spec_source(problem, catalog), problem.name, library)

    return make
