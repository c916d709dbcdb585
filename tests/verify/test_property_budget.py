"""Property tests stop at their time budget and say so, instead of running unbounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from circ import api
from circ.learn.catalog import Catalog
from circ.learn.catalog.provider import CatalogProvider
from circ.settings import packaged_catalog_dir
from circ.verify import properties


def test_a_function_past_its_budget_stops_with_a_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.circ"
    path.write_text(
        "use stdlib.modular;\nfn main(a: Mod[97]) -> Mod[97] ensures result == (a + 1) % 97 { inc(a) }\n"
    )
    monkeypatch.setattr(properties, "BUDGET_S", 0.0)
    with Catalog("sqlite://", tmp_path / "blobs", packaged=packaged_catalog_dir()) as catalog:
        result = properties.check_function(
            api.check(path), "main", CatalogProvider(catalog), None, examples=1000
        )
    assert result.out_of_time and result.passed and result.examples < 1000
