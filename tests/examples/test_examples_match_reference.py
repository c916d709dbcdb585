"""Every example runs on the shipped stdlib, and its output equals the reference semantics: the same
program with each circuit replaced by the reference function of the task it was certified against.
Exhaustive where the input domain is small (every Mod[97] pair), a seeded sample otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from circ import api
from circ.compiler.passes import optimize
from circ.lang import types as T
from circ.learn.catalog import Catalog
from circ.learn.catalog.provider import CatalogProvider
from circ.runtime.execute import execute
from circ.runtime.torch_backend import TorchBackend
from circ.runtime.values import domain_batch, domain_size
from circ.settings import Settings
from circ.verify.reference import ReferenceProvider

from support import example_files

EXHAUSTIVE = 10_000  # inputs; above this, a seeded sample of SAMPLE rows
SAMPLE = 2_000


def sample_batch(params: list[tuple[str, T.Type]], rows: int, seed: int) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    batch = []
    for _, t in params:
        columns = [
            torch.randint(leaf.low, leaf.low + leaf.size, (rows,), generator=generator) for leaf in T.parts(t)
        ]
        batch.append(torch.stack(columns, dim=1))
    return batch


@pytest.fixture(scope="module")
def stdlib_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    home = tmp_path_factory.mktemp("home")  # an empty user catalog: only the packaged stdlib answers
    with Settings.from_env(data_dir=home, environ={}).open_catalog() as catalog:
        yield catalog


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.stem)
def test_example_equals_its_reference_semantics(path: Path, stdlib_catalog: Catalog) -> None:
    compiled = api.compile(path, "main")
    params = list(compiled.checked.function("main").signature.params)
    exhaustive = domain_size(params) <= EXHAUSTIVE
    inputs = domain_batch(params) if exhaustive else sample_batch(params, SAMPLE, seed=0)
    graph = optimize(compiled.graph)
    learned = execute(
        graph, inputs, TorchBackend(CatalogProvider(stdlib_catalog), torch.device("cpu"))
    ).output
    reference = execute(
        graph, inputs, TorchBackend(ReferenceProvider(stdlib_catalog), torch.device("cpu"))
    ).output
    wrong = (learned != reference).any(dim=1).nonzero().flatten()
    assert wrong.numel() == 0, (
        f"{path.name}: {wrong.numel()} of {inputs[0].shape[0]} rows differ from the reference, "
        f"first at inputs {[x[wrong[0]].tolist() for x in inputs]}"
    )
