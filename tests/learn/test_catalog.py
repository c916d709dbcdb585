"""The circuit catalog on real SQLite files: round trips, refusals, versions, concurrent writers,
export/import, the packaged read-only fallback, schema upgrades, and the settings that open it."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from postgres_server import fresh_database, postgres_server
from safetensors.torch import load as load_tensors
from sqlalchemy import create_engine, inspect

from circ.circuit.config import ModelConfig
from circ.learn.catalog import (
    MAX_COUNTEREXAMPLES,
    SCHEMA_VERSION,
    Catalog,
    CatalogError,
    Certification,
    PackagedCatalog,
    Sample,
    StoreError,
    UnknownCircuitError,
    export_catalog,
    import_catalog,
    inspect_weights,
)
from circ.learn.model import build_model, save_weights
from circ.settings import Settings, user_data_dir

from support import ROOT, certificate

SIGNATURE = "(Mod[7], Mod[7]) -> Mod[7]"
TASK = "mod_add[p=7]"
CONTRACT = "ensures result == (a + b) % 7"
CONFIG = ModelConfig(vocab=8, n_positions=3, out_vocab=7, n_out=1, d_model=16, n_heads=2, d_mlp=32)


def weights(tmp_path: Path, seed: int = 0) -> bytes:
    """A tiny circuit's safetensors file, written exactly as training writes one."""
    path = tmp_path / f"w{seed}.safetensors"
    save_weights(path, build_model(CONFIG, seed).state_dict(), CONFIG, {"task": TASK})
    return path.read_bytes()


# Every test below that opens a catalog through `open_catalog` runs twice: on SQLite files and on a
# real PostgreSQL server (tests/postgres_server.py); those about SQLite itself (its files, WAL mode,
# its schema migrations by hand) run on SQLite only.
BOTH = {
    "test_a_corrupted_packaged_blob_is_refused",
    "test_another_valid_circuit_in_the_file_is_still_refused",
    "test_certificates_keep_the_first_counterexamples_and_check_fields",
    "test_corrupted_weights_are_refused_naming_circuit_and_file",
    "test_export_import_round_trip",
    "test_export_prunes_blobs_the_manifest_no_longer_names",
    "test_identical_registration_is_a_no_op_and_a_change_is_a_new_version",
    "test_import_checks_every_blob_before_writing_anything",
    "test_malformed_manifest_names_file_and_field",
    "test_missing_weights_file_is_a_clear_error",
    "test_packaged_catalog_is_a_read_only_fallback",
    "test_records_survive_reopening_the_database",
    "test_register_refuses_what_is_not_a_circuit",
    "test_round_trip_register_list_load",
    "test_training_runs_and_extractions",
    "test_unknown_circuit_suggests_close_names",
}
_server: dict[str, object] = {}  # the running server's URL while a Postgres-parametrised test runs
_databases: dict[tuple[Path, str], str] = {}


@pytest.fixture(scope="module")
def postgres() -> Iterator[str | None]:
    with postgres_server() as url:
        yield url


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.function.__name__ in BOTH:
        metafunc.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@pytest.fixture(autouse=True)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    kind = getattr(request, "param", "sqlite")
    if kind == "postgres":
        url = request.getfixturevalue("postgres")
        if url is None:
            if os.environ.get("CIRC_REQUIRE_POSTGRES") == "1":
                pytest.fail("CIRC_REQUIRE_POSTGRES=1 but no PostgreSQL server could be started")
            pytest.skip("no PostgreSQL server can be started here")
        _server["url"] = url
    yield kind
    _server.clear()


def open_catalog(tmp_path: Path, name: str = "catalog", packaged: Path | None = None) -> Catalog:
    """The catalog `name` under `tmp_path`: a SQLite file, or (Postgres runs) one database per name."""
    if "url" in _server:
        key = (tmp_path, name)
        if key not in _databases:
            _databases[key] = fresh_database(str(_server["url"]), f"c{len(_databases)}_{os.getpid()}")
        return Catalog(_databases[key], tmp_path / f"{name}-blobs", packaged=packaged)
    return Catalog(f"sqlite:///{tmp_path / name}.db", tmp_path / f"{name}-blobs", packaged=packaged)


def register(catalog: Catalog, data: bytes, name: str = "mod7.add", contract: str = CONTRACT):
    return catalog.register_circuit(name, SIGNATURE, contract, TASK, None, data)


def exact(catalog: Catalog, ref: str = "mod7.add", **more) -> Certification:
    """An exhaustive 100% certificate for `ref`'s own weights."""
    return certificate(49, sha=catalog.get(ref).weights_sha256, **more)


def test_round_trip_register_list_load(tmp_path: Path) -> None:
    data = weights(tmp_path)
    with open_catalog(tmp_path) as catalog:
        record = register(catalog, data)
        assert (record.name, record.version, record.source) == ("mod7.add", 1, "user")
        assert record.config == CONFIG.to_dict() and record.n_params == 2384
        assert record.weights_sha256 == hashlib.sha256(data).hexdigest()
        assert [r.name for r in catalog.circuits()] == ["mod7.add"]
        assert catalog.get("mod7.add") == record
        loaded = catalog.load_weights("mod7.add")
        model = catalog.load_model("mod7.add")
    assert loaded == data
    expected = build_model(CONFIG, 0).state_dict()
    tensors = load_tensors(loaded)
    assert tensors.keys() == expected.keys()
    for key, tensor in expected.items():
        assert torch.equal(tensors[key], tensor), key
    tokens = torch.tensor([[1, 2, 7], [6, 0, 7]])
    torch.testing.assert_close(model(tokens), build_model(CONFIG, 0).eval()(tokens))


def test_records_survive_reopening_the_database(tmp_path: Path) -> None:
    data = weights(tmp_path)
    with open_catalog(tmp_path) as catalog:
        record = register(catalog, data)
        catalog.add_certificate("mod7.add", exact(catalog))
    with open_catalog(tmp_path) as catalog:
        assert catalog.get("mod7.add") == record
        cert = catalog.latest_certificate("mod7.add")
        assert cert is not None and cert.certified and cert.n_checked == 49
        assert catalog.load_weights("mod7.add") == data


def test_sqlite_is_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    open_catalog(tmp_path).close()
    with sqlite3.connect(tmp_path / "catalog.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


def test_identical_registration_is_a_no_op_and_a_change_is_a_new_version(tmp_path: Path) -> None:
    first, second = weights(tmp_path, 0), weights(tmp_path, 1)
    with open_catalog(tmp_path) as catalog:
        v1 = register(catalog, first)
        assert register(catalog, first) == v1
        v2 = register(catalog, second)
        v3 = register(catalog, second, contract="ensures result == (b + a) % 7")
        assert (v2.version, v3.version) == (2, 3)
        assert catalog.get("mod7.add") == v3 and catalog.get("mod7.add@1") == v1
        assert catalog.get("mod7.add", version=2) == v2
        assert [r.version for r in catalog.versions("mod7.add")] == [1, 2, 3]
        assert catalog.load_weights("mod7.add@1") == first
        catalog.add_certificate("mod7.add@1", exact(catalog, "mod7.add@1"))
        with pytest.raises(CatalogError, match="weights_sha256: the certificate was computed on weights"):
            catalog.add_certificate("mod7.add@2", exact(catalog, "mod7.add@1"))
        assert catalog.latest_certificate("mod7.add") is None  # a certificate belongs to its weights
        with pytest.raises(UnknownCircuitError, match=r"has no version 9 \(versions: 1, 2, 3\)"):
            catalog.get("mod7.add@9")


def test_corrupted_weights_are_refused_naming_circuit_and_file(tmp_path: Path) -> None:
    with open_catalog(tmp_path) as catalog:
        record = register(catalog, weights(tmp_path))
        path = catalog.weights_path(record)
        data = bytearray(path.read_bytes())
        data[-1] ^= 0x01  # one bit of one weight
        path.write_bytes(bytes(data))
        for load in (catalog.load_weights, catalog.load_model):
            with pytest.raises(StoreError) as info:
                load("mod7.add")
            assert "mod7.add" in str(info.value) and str(path) in str(info.value)
            assert "corrupted" in str(info.value)


def test_another_valid_circuit_in_the_file_is_still_refused(tmp_path: Path) -> None:
    """Never a wrong answer: a well-formed file with the wrong weights fails the hash check."""
    with open_catalog(tmp_path) as catalog:
        record = register(catalog, weights(tmp_path, 0))
        catalog.weights_path(record).write_bytes(weights(tmp_path, 1))
        with pytest.raises(StoreError, match="corrupted"):
            catalog.load_weights("mod7.add")


def test_missing_weights_file_is_a_clear_error(tmp_path: Path) -> None:
    with open_catalog(tmp_path) as catalog:
        record = register(catalog, weights(tmp_path))
        catalog.weights_path(record).unlink()
        with pytest.raises(StoreError) as info:
            catalog.load_weights("mod7.add")
    message = str(info.value)
    assert "circuit 'mod7.add'" in message and "missing" in message
    assert str(catalog.weights_path(record)) in message


def test_register_refuses_what_is_not_a_circuit(tmp_path: Path) -> None:
    data = weights(tmp_path)
    with open_catalog(tmp_path) as catalog:
        with pytest.raises(CatalogError, match="weights: not a circ circuit"):
            register(catalog, b"not safetensors at all")
        with pytest.raises(CatalogError, match="config: differs"):
            catalog.register_circuit(
                "x", SIGNATURE, CONTRACT, TASK, {**CONFIG.to_dict(), "d_model": 64}, data
            )
        with pytest.raises(CatalogError, match="the record says task 'mod_sub\\[p=7\\]'"):
            catalog.register_circuit("x", SIGNATURE, CONTRACT, "mod_sub[p=7]", None, data)
        with pytest.raises(CatalogError, match="is not of the form"):
            catalog.register_circuit("x", "add(a: Mod[7], b: Mod[7]) -> Mod[7]", CONTRACT, TASK, None, data)
        # the same token shapes at other types: the config fits, the task's signature does not
        with pytest.raises(CatalogError, match=r"task mod_add\[p=7\] is \(Mod\[7\], Mod\[7\]\) -> Mod\[7\]"):
            catalog.register_circuit("x", "(Int[-3, 3], Int[0, 6]) -> Int[-3, 3]", CONTRACT, TASK, None, data)
        with pytest.raises(CatalogError, match=r"model\.vocab: the task needs 12"):
            catalog.register_circuit("x", "(Int[-5, 5], Mod[7]) -> Mod[7]", CONTRACT, TASK, None, data)
        with pytest.raises(CatalogError, match="name: 'two words'"):
            register(catalog, data, name="two words")
        assert catalog.circuits() == []
    assert inspect_weights(data) == (CONFIG.to_dict(), 2384)


def test_unknown_circuit_suggests_close_names(tmp_path: Path) -> None:
    with open_catalog(tmp_path) as catalog:
        register(catalog, weights(tmp_path))
        with pytest.raises(UnknownCircuitError, match=r"did you mean 'mod7\.add'") as info:
            catalog.get("mod7.ad")
        assert info.value.close == ("mod7.add",)
        with pytest.raises(UnknownCircuitError, match="catalog list"):
            catalog.load_weights("zzz")


def test_certificates_keep_the_first_counterexamples_and_check_fields(tmp_path: Path) -> None:
    with open_catalog(tmp_path) as catalog:
        register(catalog, weights(tmp_path))
        wrong = [{"args": [i, 0], "expected": i, "got": (i + 1) % 7} for i in range(30)]
        sha = catalog.get("mod7.add").weights_sha256
        sample = Sample("uniform", 1000, 30, 0.0412)
        sampled = certificate(10**30, 0.97, sha=sha, method="sampled", n_checked=1000, samples=(sample,))
        cert = catalog.add_certificate("mod7.add", replace(sampled, counterexamples=wrong))
        assert cert.counterexamples == wrong[:MAX_COUNTEREXAMPLES] and not cert.certified
        assert catalog.latest_certificate("mod7.add") == cert  # a 10**30 domain round-trips exactly
        bad = [
            ({"accuracy": 1.5}, "accuracy"),
            ({"accuracy": float("nan")}, "accuracy"),
            ({"n_checked": 50}, "n_checked"),
            ({"domain_size": 0}, "domain_size"),
            ({"method": "sampled", "n_checked": None}, "n_checked"),
            ({"method": "guessed"}, "method"),
            ({"precision": "fp8"}, "precision"),
            ({"min_margin": float("inf")}, "min_margin"),
            ({"samples": (Sample("uniform", 10, 11, 1.0),)}, "samples"),
            ({"method": "sampled", "samples": (Sample("uniform", 10, 0, 0.0),)}, "samples"),
            ({"counterexamples": [object()]}, "counterexamples"),
        ]
        for change, field in bad:
            with pytest.raises(CatalogError, match=f"^{field}"):
                catalog.add_certificate("mod7.add", replace(exact(catalog), **change))
        assert len(catalog.certificates("mod7.add")) == 1


def test_training_runs_and_extractions(tmp_path: Path) -> None:
    with open_catalog(tmp_path) as catalog:
        run = catalog.add_training_run("mod_add[p=7]", {"steps": 10}, seed=3)
        assert (run.status, run.circuit) == ("running", None)
        register(catalog, weights(tmp_path))
        done = catalog.update_training_run(
            run.id, status="done", curves={"val_acc": [0.5, 1.0]}, circuit="mod7.add"
        )
        assert (done.status, done.circuit, done.curves, done.seed) == (
            "done",
            "mod7.add@1",
            {"val_acc": [0.5, 1.0]},
            3,
        )
        assert catalog.training_runs("mod7.add") == [done] == catalog.training_runs()
        with pytest.raises(CatalogError, match="no training run 99"):
            catalog.update_training_run(99, status="done")
        extraction = catalog.add_extraction("mod7.add", "prune", b"pruned weights", {"kept": 0.25})
        assert catalog.extractions("mod7.add") == [extraction]
        assert catalog.load_artefact(extraction) == b"pruned weights"
        catalog.blobs.path(extraction.artefact_sha256).write_bytes(b"tampered")
        with pytest.raises(StoreError, match=r"extraction 1 \(prune\) of circuit 'mod7\.add'"):
            catalog.load_artefact(extraction)


# ---- concurrent writers -------------------------------------------------------------------------

# Runs in a spawned process. `exec` is the target because a function in this file cannot be imported
# by name in the child (pytest loads test files with --import-mode=importlib).
WORKER = """
import json
import numpy as np
from safetensors.numpy import save
from circ.learn.catalog import Catalog

from circ.circuit.config import ModelConfig, parameter_shapes

CONFIG = ModelConfig(vocab=3, n_positions=2, out_vocab=2, n_out=1, d_model=2, n_heads=1, d_mlp=1)

def circuit(value):
    meta = {"format": "circ.circuit/1", "config": json.dumps(CONFIG.to_dict()), "task": "bool_not"}
    tensors = {k: np.full(shape, value, dtype=np.float32) for k, shape in parameter_shapes(CONFIG).items()}
    return save(tensors, metadata=meta)

SIG = "(Bool) -> Bool"
catalog = Catalog(url, blobs)
barrier.wait()
for i in range(10):
    catalog.register_circuit(f"w{worker}.c{i}", SIG, "", "bool_not", None, circuit(100 * worker + i))
    catalog.register_circuit("shared", SIG, "", "bool_not", None, circuit(-1 - 100 * worker - i))
catalog.close()
"""


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    url, blobs = f"sqlite:///{tmp_path / 'shared.db'}", tmp_path / "blobs"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    workers = [
        ctx.Process(target=exec, args=(WORKER, {"url": url, "blobs": blobs, "worker": k, "barrier": barrier}))
        for k in range(4)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    with Catalog(url, blobs) as catalog:
        names = {r.name for r in catalog.circuits()}
        assert names == {f"w{k}.c{i}" for k in range(4) for i in range(10)} | {"shared"}
        assert [r.version for r in catalog.versions("shared")] == list(range(1, 41))
        for k in range(4):
            assert catalog.load_weights(f"w{k}.c9")  # hash-checked
    assert len(list(blobs.rglob("*.safetensors"))) == 80


# ---- export, import, and the packaged read-only catalog -----------------------------------------


def populated(tmp_path: Path) -> Catalog:
    catalog = open_catalog(tmp_path, "source")
    register(catalog, weights(tmp_path, 0))
    register(catalog, weights(tmp_path, 1), name="mod7.other")
    catalog.add_certificate("mod7.add", exact(catalog))
    wrong = [{"args": [3, 4], "expected": 0, "got": 5}]
    catalog.add_certificate(
        "mod7.other", exact(catalog, "mod7.other", accuracy=48 / 49, counterexamples=wrong)
    )
    return catalog


def test_export_import_round_trip(tmp_path: Path) -> None:
    with populated(tmp_path) as source:
        exported = export_catalog(source, tmp_path / "out")
        before = {r.name: (r, source.certificates(r.name)) for r in source.circuits()}
    assert [r.name for r in exported] == ["mod7.add", "mod7.other"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["format"] == "circ.catalog/1" and len(manifest["circuits"]) == 2
    with open_catalog(tmp_path, "target") as target:
        result = import_catalog(target, tmp_path / "out")
        assert (result.new, result.certificates) == (2, 2)
        for name, (record, certs) in before.items():
            got = target.get(name)
            assert (got.signature, got.config, got.weights_sha256, got.created) == (
                record.signature,
                record.config,
                record.weights_sha256,
                record.created,
            )
            assert [(c.accuracy, c.counterexamples, c.created) for c in target.certificates(name)] == [
                (c.accuracy, c.counterexamples, c.created) for c in certs
            ]
            assert target.load_weights(name) == source.load_weights(name)
        again = import_catalog(target, tmp_path / "out")
        assert (again.new, again.certificates) == (0, 0)  # importing twice changes nothing
        assert [r.version for r in target.versions("mod7.add")] == [1]


def test_export_prunes_blobs_the_manifest_no_longer_names(tmp_path: Path) -> None:
    with populated(tmp_path) as source:
        export_catalog(source, tmp_path / "out")
        export_catalog(source, tmp_path / "out", names=["mod7.add"])
        assert PackagedCatalog(tmp_path / "out").blobs.shas() == {source.get("mod7.add").weights_sha256}


def test_import_checks_every_blob_before_writing_anything(tmp_path: Path) -> None:
    with populated(tmp_path) as source:
        export_catalog(source, tmp_path / "out")
        victim = PackagedCatalog(tmp_path / "out").blobs.path(source.get("mod7.other").weights_sha256)
    victim.write_bytes(victim.read_bytes()[:-1])
    with open_catalog(tmp_path, "target") as target:
        with pytest.raises(StoreError, match=r"circuit 'mod7\.other'.*corrupted"):
            import_catalog(target, tmp_path / "out")
        assert target.circuits() == []
        with pytest.raises(CatalogError, match=r"no manifest\.json"):
            import_catalog(target, tmp_path / "nowhere")


def test_malformed_manifest_names_file_and_field(tmp_path: Path) -> None:
    with populated(tmp_path) as source:
        export_catalog(source, tmp_path / "out")
    path = tmp_path / "out" / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["circuits"][1]["signature"]
    path.write_text(json.dumps(manifest))
    missing = r"manifest\.json: circuits\[1\]\.signature is missing"
    with open_catalog(tmp_path, "target") as target, pytest.raises(CatalogError, match=missing):
        import_catalog(target, tmp_path / "out")


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


def read_only(directory: Path) -> None:
    for p in [*directory.rglob("*"), directory]:
        p.chmod(0o555 if p.is_dir() else 0o444)


def test_packaged_catalog_is_a_read_only_fallback(tmp_path: Path) -> None:
    with populated(tmp_path) as source:
        export_catalog(source, tmp_path / "stdlib")
        shipped = source.load_weights("mod7.add")
    read_only(tmp_path / "stdlib")
    before = snapshot(tmp_path / "stdlib")
    try:
        with open_catalog(tmp_path, "user", packaged=tmp_path / "stdlib") as catalog:
            record = catalog.get("mod7.add")
            assert (record.source, record.id) == ("stdlib", None)
            assert catalog.load_weights("mod7.add") == shipped
            assert catalog.latest_certificate("mod7.add").certified
            # writing about a stdlib circuit copies it into the user's database, keeping its version
            sample = (Sample("uniform", 7, 0, 0.35),)
            sha = record.weights_sha256
            catalog.add_certificate(
                "mod7.add", certificate(49, sha=sha, method="sampled", n_checked=7, samples=sample)
            )
            copied = catalog.get("mod7.add")
            assert (copied.source, copied.version, copied.weights_sha256) == (
                "user",
                1,
                record.weights_sha256,
            )
            assert len(catalog.certificates("mod7.add")) == 2  # the shipped one came along
            # a user circuit of the same name shadows the stdlib's; stdlib versions keep counting
            newer = register(catalog, weights(tmp_path, 5), name="mod7.other")
            assert (newer.source, newer.version) == ("user", 2)
            assert {r.name: r.source for r in catalog.circuits()} == {
                "mod7.add": "user",
                "mod7.other": "user",
            }
    finally:
        for p in [tmp_path / "stdlib", *(tmp_path / "stdlib").rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
    assert snapshot(tmp_path / "stdlib") == before


def test_a_corrupted_packaged_blob_is_refused(tmp_path: Path) -> None:
    with populated(tmp_path) as source:
        export_catalog(source, tmp_path / "stdlib")
    with open_catalog(tmp_path, "user", packaged=tmp_path / "stdlib") as catalog:
        path = catalog.weights_path(catalog.get("mod7.add"))
        assert path.is_relative_to(tmp_path / "stdlib")
        path.write_bytes(b"x" + path.read_bytes()[1:])
        with pytest.raises(StoreError, match=f"circuit 'mod7.add'.*corrupted.*{path.name}"):
            catalog.load_weights("mod7.add")


def test_the_shipped_stdlib_catalog_is_consistent() -> None:
    """Whatever ships in stdlib/catalog: every blob present, hash-checked, matching its config; ≤ 30 MB."""
    directory = ROOT / "stdlib" / "catalog"
    packaged = PackagedCatalog(directory)
    total = 0
    for record in packaged.manifest.circuits:
        data = packaged.blobs.get(record.weights_sha256, owner=f"circuit {record.name!r}")
        assert inspect_weights(data)[0] == record.config, record.name
        total += len(data)
    assert total <= 30 * 2**20
    artefacts = {e.artefact_sha256 for e in packaged.manifest.extractions}
    assert packaged.blobs.shas() == {r.weights_sha256 for r in packaged.manifest.circuits} | artefacts


# ---- schema versions ----------------------------------------------------------------------------

# What circ wrote at schema version 1 (DESIGN §7's first cut), written out by hand.
V1_SCHEMA = """
CREATE TABLE circuit (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL, signature TEXT NOT NULL,
  contract TEXT NOT NULL, task VARCHAR(200) NOT NULL, config JSON NOT NULL,
  weights_sha256 VARCHAR(64) NOT NULL, created DATETIME NOT NULL);
CREATE UNIQUE INDEX ix_circuit_name ON circuit (name);
CREATE TABLE training_run (id INTEGER NOT NULL PRIMARY KEY,
  circuit_id INTEGER REFERENCES circuit (id) ON DELETE SET NULL, task VARCHAR(200) NOT NULL,
  config JSON NOT NULL, seed INTEGER NOT NULL, curves JSON, status VARCHAR(32) NOT NULL,
  created DATETIME NOT NULL);
CREATE TABLE certificate (id INTEGER NOT NULL PRIMARY KEY,
  circuit_id INTEGER NOT NULL REFERENCES circuit (id) ON DELETE CASCADE, domain_size TEXT NOT NULL,
  accuracy FLOAT NOT NULL, counterexamples JSON NOT NULL, created DATETIME NOT NULL);
CREATE INDEX ix_certificate_circuit_id ON certificate (circuit_id);
CREATE TABLE extraction (id INTEGER NOT NULL PRIMARY KEY,
  circuit_id INTEGER NOT NULL REFERENCES circuit (id) ON DELETE CASCADE, method VARCHAR(64) NOT NULL,
  artefact_sha256 VARCHAR(64) NOT NULL, summary JSON NOT NULL, created DATETIME NOT NULL);
CREATE INDEX ix_extraction_circuit_id ON extraction (circuit_id);
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
"""


def schema(url: str) -> dict[str, tuple[set[tuple[str, bool]], set[tuple[str, bool]]]]:
    """Per table: (column, nullable) and (index, unique) pairs."""
    engine = create_engine(url)
    try:
        found = inspect(engine)
        return {
            table: (
                {(c["name"], c["nullable"]) for c in found.get_columns(table)},
                {(i["name"], bool(i["unique"])) for i in found.get_indexes(table)},
            )
            for table in found.get_table_names()
        }
    finally:
        engine.dispose()


def test_upgrade_from_version_1(tmp_path: Path) -> None:
    data = weights(tmp_path)
    sha = hashlib.sha256(data).hexdigest()
    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.executescript(V1_SCHEMA)
        conn.execute(
            "INSERT INTO circuit VALUES (1, 'mod7.add', ?, ?, 'mod_add[p=7]', ?, ?, ?)",
            (SIGNATURE, CONTRACT, json.dumps(CONFIG.to_dict()), sha, "2024-05-01 12:00:00.000000"),
        )
        conn.execute("INSERT INTO certificate VALUES (1, 1, '49', 1.0, '[]', '2024-05-02 12:00:00.000000')")
    conn.close()
    with Catalog(f"sqlite:///{tmp_path / 'old.db'}", tmp_path / "blobs") as catalog:
        catalog.blobs.put(data)
        record = catalog.get("mod7.add")
        assert (record.version, record.n_params, record.created.year) == (1, None, 2024)
        assert catalog.load_weights("mod7.add") == data
        cert = catalog.latest_certificate("mod7.add")
        assert (cert.sampled, cert.n_checked, cert.certified) == (True, None, False)  # v1 did not say
        assert cert.weights_sha256 == sha and cert.error_bound is None  # a v1 sample carries no bound
        assert register(catalog, weights(tmp_path, 1)).version == 2  # the unique index is (name, version)
    open_catalog(tmp_path, "fresh").close()
    assert schema(f"sqlite:///{tmp_path / 'old.db'}") == schema(f"sqlite:///{tmp_path / 'fresh.db'}")
    with sqlite3.connect(tmp_path / "old.db") as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    conn.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    open_catalog(tmp_path).close()
    with sqlite3.connect(tmp_path / "catalog.db") as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    conn.close()
    with pytest.raises(CatalogError, match="schema version 99 is newer"):
        open_catalog(tmp_path)


def test_a_database_that_cannot_be_opened_is_a_catalog_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"cannot open catalog database sqlite:///.*nowhere"):
        Catalog(f"sqlite:///{tmp_path / 'nowhere' / 'x.db'}", tmp_path / "blobs")
    with pytest.raises(CatalogError, match="cannot open catalog database nonsense://"):
        Catalog("nonsense://x", tmp_path / "blobs")


# ---- settings -----------------------------------------------------------------------------------


def test_settings_flags_beat_environment_beat_defaults(tmp_path: Path) -> None:
    env = {"CIRC_HOME": str(tmp_path / "home"), "CIRC_DB": "sqlite:////env/c.db", "CIRC_DEVICE": "cuda:1"}
    assert Settings.from_env(environ=env).db_url == "sqlite:////env/c.db"
    assert Settings.from_env(db="sqlite:////flag/c.db", environ=env).db_url == "sqlite:////flag/c.db"
    home_only = Settings.from_env(environ={"CIRC_HOME": str(tmp_path / "home")})
    assert home_only.db_url == f"sqlite:///{tmp_path / 'home' / 'catalog.db'}"
    assert home_only.blob_dir == tmp_path / "home" / "blobs"
    assert home_only.device == "auto" and Settings.from_env(environ=env).device == "cuda:1"
    assert home_only.stdlib_catalog == ROOT / "stdlib" / "catalog"
    assert Settings.from_env(db="postgresql://h/db", environ=env).blob_dir == tmp_path / "home" / "blobs"
    assert Settings.from_env(db=f"sqlite:///{tmp_path / 'x' / 'c.db'}", environ=env).blob_dir == (
        tmp_path / "x" / "blobs"  # beside the database file
    )


def test_default_data_dir_is_per_user(tmp_path: Path) -> None:
    assert Settings.from_env(environ={"XDG_DATA_HOME": str(tmp_path)}).data_dir in (
        tmp_path / "circ",
        user_data_dir({}),  # macOS and Windows do not read XDG_DATA_HOME
    )


def test_open_from_settings_creates_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env(environ={"CIRC_HOME": str(tmp_path / "new" / "home")})
    with settings.open_catalog() as catalog:
        register(catalog, weights(tmp_path))
    assert (tmp_path / "new" / "home" / "catalog.db").is_file()
    assert len(list((tmp_path / "new" / "home" / "blobs").rglob("*.safetensors"))) == 1
