"""Mechanism summaries (`extraction` rows) travel with their circuit: database → exported manifest →
packaged catalog → another database, and into the database when a packaged circuit is adopted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from circ.circuit.config import ModelConfig
from circ.learn.catalog import Catalog, CatalogError, PackagedCatalog, export_catalog, import_catalog
from circ.learn.model import build_model, save_weights

from support import certificate

CONFIG = ModelConfig(vocab=8, n_positions=3, out_vocab=7, n_out=1, d_model=16, n_heads=2, d_mlp=32)
SUMMARY = {
    "headline": "Fourier addition, key frequencies 1 3; 80% of neurons single-frequency",
    "key_frequencies": [1, 3],
}
ARTEFACT = json.dumps({"format": "circ.analysis/1", "key_frequencies": [1, 3]}).encode()


def open_catalog(tmp_path: Path, name: str, packaged: Path | None = None) -> Catalog:
    return Catalog(f"sqlite:///{tmp_path / name}.db", tmp_path / f"{name}-blobs", packaged=packaged)


def with_circuit(tmp_path: Path, name: str = "a") -> Catalog:
    path = tmp_path / "w.safetensors"
    save_weights(path, build_model(CONFIG, 0).state_dict(), CONFIG, {"task": "mod_add[p=7]"})
    catalog = open_catalog(tmp_path, name)
    catalog.register_circuit(
        "mod7.add",
        "(Mod[7], Mod[7]) -> Mod[7]",
        "ensures result == (a + b) % 7",
        "mod_add[p=7]",
        None,
        path.read_bytes(),
    )
    return catalog


def test_an_extraction_round_trips_through_export_and_import(tmp_path: Path) -> None:
    with with_circuit(tmp_path) as source:
        row = source.add_extraction("mod7.add", "fourier", ARTEFACT, SUMMARY)
        export_catalog(source, tmp_path / "exported")
    manifest = json.loads((tmp_path / "exported" / "manifest.json").read_text())
    [shipped] = manifest["circuits"][0]["extractions"]
    assert shipped["method"] == "fourier" and shipped["summary"] == SUMMARY
    assert shipped["artefact_sha256"] == row.artefact_sha256
    assert (tmp_path / "exported" / "blobs" / row.artefact_sha256[:2]).is_dir()  # not pruned

    packaged = PackagedCatalog(tmp_path / "exported")
    [record] = packaged.manifest.extractions
    assert (record.id, record.circuit, record.version, record.created) == (None, "mod7.add", 1, row.created)
    with open_catalog(tmp_path, "reader", packaged=tmp_path / "exported") as reader:
        [seen] = reader.extractions("mod7.add")  # a packaged circuit's, from its manifest
        assert seen.summary == SUMMARY and reader.load_artefact(seen) == ARTEFACT

    with open_catalog(tmp_path, "importer") as importer:
        import_catalog(importer, tmp_path / "exported")
        import_catalog(importer, tmp_path / "exported")  # twice: nothing doubles
        [imported] = importer.extractions("mod7.add")
        assert imported.id is not None and imported.summary == SUMMARY
        assert importer.load_artefact(imported) == ARTEFACT
        export_catalog(importer, tmp_path / "again")
    assert json.loads((tmp_path / "again" / "manifest.json").read_text()) == manifest


def test_adopting_a_packaged_circuit_keeps_its_mechanism(tmp_path: Path) -> None:
    with with_circuit(tmp_path) as source:
        source.add_extraction("mod7.add", "fourier", ARTEFACT, SUMMARY)
        export_catalog(source, tmp_path / "stdlib")
    with open_catalog(tmp_path, "user", packaged=tmp_path / "stdlib") as user:
        user.add_certificate("mod7.add", certificate(49, sha=user.get("mod7.add").weights_sha256))
        assert user.get("mod7.add").source == "user"  # copied into the database …
        [kept] = user.extractions("mod7.add")  # … with its extraction, whose artefact is now local
        assert kept.id is not None and user.load_artefact(kept) == ARTEFACT


def test_a_circuit_without_extractions_exports_as_before(tmp_path: Path) -> None:
    with with_circuit(tmp_path) as source:
        export_catalog(source, tmp_path / "plain")
    assert "extractions" not in json.loads((tmp_path / "plain" / "manifest.json").read_text())["circuits"][0]


def test_a_malformed_extraction_names_its_field(tmp_path: Path) -> None:
    with with_circuit(tmp_path) as source:
        source.add_extraction("mod7.add", "fourier", ARTEFACT, SUMMARY)
        export_catalog(source, tmp_path / "bad")
    path = tmp_path / "bad" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["circuits"][0]["extractions"][0]["artefact_sha256"] = "../../etc/passwd"
    path.write_text(json.dumps(manifest))
    with pytest.raises(CatalogError, match=r"circuits\[0\]\.extractions\[0\]\.artefact_sha256"):
        PackagedCatalog(tmp_path / "bad").manifest  # noqa: B018 - reading is what fails
