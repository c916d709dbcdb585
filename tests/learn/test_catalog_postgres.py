"""The catalog against a real PostgreSQL server (the shared-use deployment the catalog claims):
round trips, versions, certificates (a 10^25 domain included), extractions, export/import, and four
processes writing at once — the same guarantees the SQLite tests check."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest
from postgres_server import fresh_database, postgres_server

from circ.circuit.config import ModelConfig
from circ.learn.catalog import Catalog, CatalogError, export_catalog, import_catalog
from circ.learn.model import build_model, weight_bytes

from support import certificate

CONFIG = ModelConfig(vocab=8, n_positions=3, out_vocab=7, n_out=1, d_model=16, n_heads=2, d_mlp=32)
SIG = "(Mod[7], Mod[7]) -> Mod[7]"
_names = count()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with postgres_server() as url:
        if url is None:
            if os.environ.get("CIRC_REQUIRE_POSTGRES") == "1":
                pytest.fail("CIRC_REQUIRE_POSTGRES=1 but no PostgreSQL server could be started")
            pytest.skip("no PostgreSQL server can be started here (initdb/pg_ctl or psycopg missing)")
        yield url


@pytest.fixture
def url(server: str) -> str:
    return fresh_database(server, f"t{os.getpid()}_{next(_names)}")


def blob(task: str, seed: int) -> bytes:
    return weight_bytes(build_model(CONFIG, seed).state_dict(), CONFIG, {"task": task})


def test_round_trip_versions_and_certificates(url: str, tmp_path: Path) -> None:
    with Catalog(url, tmp_path / "blobs") as catalog:
        first = catalog.register_circuit("mod7.add", SIG, "", "mod_add[p=7]", None, blob("mod_add[p=7]", 0))
        second = catalog.register_circuit("mod7.add", SIG, "", "mod_add[p=7]", None, blob("mod_add[p=7]", 1))
        assert (first.version, second.version) == (1, 2)
        assert catalog.get("mod7.add@1").weights_sha256 == first.weights_sha256
        catalog.add_certificate(second.ref, certificate(49, sha=second.weights_sha256))
        assert catalog.latest_certificate("mod7.add").certified
        huge = certificate(10**25, sha=second.weights_sha256, method="bounds")
        catalog.add_certificate(second.ref, huge)
        assert catalog.latest_certificate("mod7.add").domain_size == 10**25
        catalog.add_extraction(second.ref, "prune", b"artefact", {"kept": 3})
        assert [e.method for e in catalog.extractions("mod7.add")] == ["prune"]
        catalog.load_model("mod7.add")  # hash- and binding-checked
        with pytest.raises(CatalogError, match=r"mod7\.sub"):
            catalog.get("mod7.sub")


def test_export_then_import_keeps_the_version_number(url: str, server: str, tmp_path: Path) -> None:
    with Catalog(url, tmp_path / "a") as catalog:
        for seed in range(2):
            catalog.register_circuit("mod7.add", SIG, "", "mod_add[p=7]", None, blob("mod_add[p=7]", seed))
        export_catalog(catalog, tmp_path / "out")  # the newest version, as mod7.add@2
    other = fresh_database(server, f"t{os.getpid()}_{next(_names)}")
    with Catalog(other, tmp_path / "b") as catalog:
        import_catalog(catalog, tmp_path / "out")
        assert [r.ref for r in catalog.versions("mod7.add")] == ["mod7.add@2"]


WORKER = """
from circ.circuit.config import ModelConfig
from circ.learn.catalog import Catalog
from circ.learn.model import build_model, weight_bytes

CONFIG = ModelConfig(vocab=3, n_positions=2, out_vocab=2, n_out=1, d_model=2, n_heads=1, d_mlp=1)
SIG = "(Bool) -> Bool"
catalog = Catalog(url, blobs)
barrier.wait(timeout=120)
def circuit(seed):
    return weight_bytes(build_model(CONFIG, seed).state_dict(), CONFIG, {"task": "bool_not"})

for i in range(5):
    catalog.register_circuit(f"w{worker}.c{i}", SIG, "", "bool_not", None, circuit(100 * worker + i))
    catalog.register_circuit("shared", SIG, "", "bool_not", None, circuit(5000 + 100 * worker + i))
catalog.close()
"""


def test_concurrent_writers_lose_nothing(url: str, tmp_path: Path) -> None:
    blobs = tmp_path / "blobs"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)  # all four open the empty database at once: schema creation races too
    args = [(WORKER, {"url": url, "blobs": blobs, "worker": k, "barrier": barrier}) for k in range(4)]
    workers = [ctx.Process(target=exec, args=a) for a in args]
    for w in workers:
        w.start()
    try:
        for w in workers:
            w.join(timeout=180)
    finally:
        for w in workers:  # a stuck writer must fail the test, not hang the suite
            if w.is_alive():
                w.kill()
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    with Catalog(url, blobs) as catalog:
        names = {r.name for r in catalog.circuits()}
        assert {f"w{k}.c{i}" for k in range(4) for i in range(5)} | {"shared"} <= names
        assert [r.version for r in catalog.versions("shared")] == list(range(1, 21))
