"""Nothing can silently replace, renumber or delete a user's circuits, and no record is trusted
further than its weights bear out (issue 13's catalog findings, each reproduced and refused)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from circ.circuit.config import ModelConfig
from circ.learn.catalog import Catalog, CatalogError, export_catalog, import_catalog
from circ.learn.catalog.schema import Circuit
from circ.learn.model import build_model, weight_bytes

from support import certificate

CONFIG = ModelConfig(vocab=8, n_positions=3, out_vocab=7, n_out=1, d_model=16, n_heads=2, d_mlp=32)
SIG = "(Mod[7], Mod[7]) -> Mod[7]"


def blob(task: str, seed: int = 0, **meta: str) -> bytes:
    return weight_bytes(build_model(CONFIG, seed).state_dict(), CONFIG, {"task": task, **meta})


def catalog_at(tmp_path: Path, name: str = "c", packaged: Path | None = None) -> Catalog:
    return Catalog(f"sqlite:///{tmp_path / name}.db", tmp_path / f"{name}-blobs", packaged=packaged)


def two_circuits(catalog: Catalog) -> None:
    catalog.register_circuit("mod7.add", SIG, "", "mod_add[p=7]", None, blob("mod_add[p=7]", 0))
    catalog.register_circuit("mod7.sub", SIG, "", "mod_sub[p=7]", None, blob("mod_sub[p=7]", 1))


def test_a_record_pointed_at_another_circuits_genuine_blob_is_refused(tmp_path: Path) -> None:
    with catalog_at(tmp_path) as catalog:
        two_circuits(catalog)
        sub = catalog.get("mod7.sub").weights_sha256

        def point(s) -> None:
            s.query(Circuit).filter_by(name="mod7.add").one().weights_sha256 = sub

        catalog.transaction(point)
        with pytest.raises(
            CatalogError, match=r"says task 'mod_add\[p=7\]', its weights were trained on 'mod_sub"
        ):
            catalog.load_model("mod7.add")


def test_edited_manifests_are_refused(tmp_path: Path) -> None:
    with catalog_at(tmp_path) as source:
        two_circuits(source)
        source.add_certificate("mod7.add", certificate(49, sha=source.get("mod7.add").weights_sha256))
        export_catalog(source, tmp_path / "out")
    path = tmp_path / "out" / "manifest.json"
    original = json.loads(path.read_text())

    def import_with(change) -> None:
        manifest = json.loads(json.dumps(original))
        change(manifest["circuits"])
        path.write_text(json.dumps(manifest))
        with catalog_at(tmp_path, "target") as target:
            import_catalog(target, tmp_path / "out")

    def other_blob(circuits) -> None:
        circuits[0]["weights_sha256"] = circuits[1]["weights_sha256"]

    def duplicate(circuits) -> None:
        circuits.append(dict(circuits[0], weights_sha256=circuits[1]["weights_sha256"]))

    def heads(circuits) -> None:
        circuits[0]["config"]["n_heads"] = 4

    def accuracy(circuits) -> None:
        circuits[0]["certificates"][0]["accuracy"] = 7.5

    for change, message in [
        (other_blob, "certificate was computed on weights"),  # the entry's certificate is bound to its own
        (duplicate, r"mod7\.add@1 is listed twice"),
        (heads, "config differs from the config in its weights"),
        (accuracy, r"accuracy: must be between 0 and 1, got 7\.5"),
    ]:
        with pytest.raises(CatalogError, match=message):
            import_with(change)
    with catalog_at(tmp_path, "target") as target:
        assert target.circuits() == []  # nothing of a refused directory was written


def test_a_tampered_packaged_manifest_is_refused_at_load(tmp_path: Path) -> None:
    with catalog_at(tmp_path) as source:
        two_circuits(source)
        export_catalog(source, tmp_path / "stdlib")
    path = tmp_path / "stdlib" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["circuits"][0]["weights_sha256"] = manifest["circuits"][1]["weights_sha256"]
    path.write_text(json.dumps(manifest))
    refused = pytest.raises(CatalogError, match="its weights were trained on 'mod_sub")
    with catalog_at(tmp_path, "user", packaged=tmp_path / "stdlib") as catalog, refused:
        catalog.load_model("mod7.add")


def test_pins_survive_export_and_import_and_a_clash_is_refused(tmp_path: Path) -> None:
    with catalog_at(tmp_path) as source:
        for seed in range(3):
            source.register_circuit("mod7.add", SIG, "", "mod_add[p=7]", None, blob("mod_add[p=7]", seed))
        export_catalog(source, tmp_path / "out")  # the newest version only: mod7.add@3
        pinned = source.get("mod7.add@3")
    with catalog_at(tmp_path, "target") as target:
        (record,) = import_catalog(target, tmp_path / "out").circuits
        assert record.ref == "mod7.add@3" and target.get("mod7.add@3").weights_sha256 == pinned.weights_sha256
    with catalog_at(tmp_path, "other") as other:
        for seed in (5, 6, 7):  # its own mod7.add@3 has other weights
            other.register_circuit("mod7.add", SIG, "", "mod_add[p=7]", None, blob("mod_add[p=7]", seed))
        with pytest.raises(CatalogError, match=r"already has a different mod7\.add@3.*not renumbered"):
            import_catalog(other, tmp_path / "out")


def test_import_does_not_hide_a_shipped_circuit_unless_asked(tmp_path: Path) -> None:
    with catalog_at(tmp_path) as shipping:
        two_circuits(shipping)
        export_catalog(shipping, tmp_path / "stdlib")
    with catalog_at(tmp_path, "elsewhere") as elsewhere:
        elsewhere.register_circuit("mod7.add", SIG, "", "mod_add[p=7]", None, blob("mod_add[p=7]", 9))
        export_catalog(elsewhere, tmp_path / "theirs")
    with catalog_at(tmp_path, "user", packaged=tmp_path / "stdlib") as user:
        with pytest.raises(CatalogError, match=r"would hide the shipped stdlib circuit"):
            import_catalog(user, tmp_path / "theirs")
        assert user.get("mod7.add").source == "stdlib"
        import_catalog(user, tmp_path / "theirs", shadow=True)
        assert user.get("mod7.add").source == "user"


def test_export_never_deletes_what_it_did_not_write(tmp_path: Path) -> None:
    home = tmp_path / "home"  # laid out as $CIRC_HOME is: catalog.db beside blobs/
    home.mkdir()
    with Catalog(f"sqlite:///{home / 'catalog.db'}", home / "blobs") as own:
        two_circuits(own)
        with pytest.raises(CatalogError, match="this catalog's own data directory"):
            export_catalog(own, home)
        assert len(list((home / "blobs").rglob("*.safetensors"))) == 2
    with catalog_at(tmp_path) as catalog:
        two_circuits(catalog)
        foreign = tmp_path / "out" / "blobs" / "ab" / ("ab" + "0" * 62 + ".safetensors")
        foreign.parent.mkdir(parents=True)
        foreign.write_bytes(b"someone else's file")
        export_catalog(catalog, tmp_path / "out")
        export_catalog(catalog, tmp_path / "out", names=["mod7.add"])  # prunes what it wrote before
        assert foreign.read_bytes() == b"someone else's file"
        sub = catalog.get("mod7.sub").weights_sha256
        assert not (tmp_path / "out" / "blobs" / sub[:2] / f"{sub}.safetensors").exists()


def test_an_empty_database_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "c.db").write_bytes(b"")
    start = time.monotonic()
    with pytest.raises(CatalogError, match=r"is an empty file \(0 bytes\)"):
        Catalog(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "blobs")
    assert time.monotonic() - start < 10


def test_a_read_only_catalog_opens_and_readers_never_wait_for_a_writer(tmp_path: Path) -> None:
    with catalog_at(tmp_path) as catalog:
        two_circuits(catalog)
    writer = sqlite3.connect(tmp_path / "c.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    done = []
    reader = threading.Thread(target=lambda: done.append(len(catalog_at(tmp_path).circuits())))
    start = time.monotonic()
    reader.start()
    reader.join(timeout=20)
    writer.execute("ROLLBACK")
    writer.close()
    assert done == [2] and time.monotonic() - start < 5
    (tmp_path / "c.db").chmod(0o444)
    try:
        with catalog_at(tmp_path) as read_only:
            assert [r.name for r in read_only.circuits()] == ["mod7.add", "mod7.sub"]
            read_only.load_model("mod7.add")
            if not _root():  # root writes through file permissions
                with pytest.raises(CatalogError, match="readonly"):
                    read_only.add_certificate(
                        "mod7.add", certificate(49, sha=read_only.get("mod7.add").weights_sha256)
                    )
    finally:
        (tmp_path / "c.db").chmod(0o644)


def _root() -> bool:
    import os

    return os.geteuid() == 0


CODE = """
import hashlib, sys
from circ.learn.model import build_model, weight_bytes
from circ.circuit.config import ModelConfig
cfg = ModelConfig(vocab=8, n_positions=3, out_vocab=7, n_out=1, d_model=16, n_heads=2, d_mlp=32)
meta = {"task": "mod_add[p=7]", "b": "1", "a": "2", "z": "3", "m": "4"}
print(hashlib.sha256(weight_bytes(build_model(cfg, 0).state_dict(), cfg, meta)).hexdigest())
"""


def test_the_same_weights_are_the_same_bytes_in_every_process() -> None:
    digests = {
        subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True).stdout for _ in range(3)
    }
    assert len(digests) == 1 and len(next(iter(digests)).strip()) == 64


def test_registering_the_same_weights_again_is_a_no_op(tmp_path: Path) -> None:
    with catalog_at(tmp_path) as catalog:
        first = catalog.register_circuit("mod7.add", SIG, "", "mod_add[p=7]", None, blob("mod_add[p=7]"))
        again = catalog.register_circuit("mod7.add", SIG, "", "mod_add[p=7]", None, blob("mod_add[p=7]"))
        assert again == first and len(catalog.versions("mod7.add")) == 1
        with pytest.raises(CatalogError, match="do not name the task"):
            bare = weight_bytes(build_model(CONFIG, 0).state_dict(), CONFIG)
            catalog.register_circuit("mod7.x", SIG, "", "mod_add[p=7]", None, bare)
        assert replace(first, name="x") != first


def test_a_proof_over_ten_to_the_25_inputs_is_stored_exactly(tmp_path: Path) -> None:
    """n_checked of a whole-domain certificate can pass 64 bits; it round-trips, and merging twice
    adds it once."""
    with catalog_at(tmp_path) as catalog:
        two_circuits(catalog)
        sha = catalog.get("mod7.add").weights_sha256
        proof = certificate(10**25, sha=sha, method="bounds", min_margin=0.99)
        stored = catalog.add_certificate("mod7.add", proof)
        assert (stored.n_checked, stored.domain_size, stored.certified) == (10**25, 10**25, True)
        export_catalog(catalog, tmp_path / "out")
    with catalog_at(tmp_path, "t") as target:
        import_catalog(target, tmp_path / "out")
        again = import_catalog(target, tmp_path / "out")
        assert again.certificates == 0 and target.latest_certificate("mod7.add").n_checked == 10**25
