"""Mutation fuzzing of everything circ reads besides source (the grammar and example mutations are in
tests/lang/test_fuzz.py): input values and JSON-lines files, catalog manifests, weight blobs and
training checkpoints. Each mutated input must give a value or one `UserError` — never another
exception. `EXAMPLES` per category is what the issue note counts."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circ.circuit.config import ModelConfig
from circ.circuit.weights import read_header
from circ.lang import types as T
from circ.lang.errors import UserError
from circ.learn.catalog import Catalog, export_catalog, import_catalog
from circ.learn.checkpoint import load_checkpoint, save_checkpoint
from circ.learn.model import build_model, weight_bytes
from circ.runtime.values import parse_text, rows_from_jsonl

EXAMPLES = 150
CONFIG = ModelConfig(vocab=8, n_positions=3, out_vocab=7, n_out=1, d_model=16, n_heads=2, d_mlp=32)
BLOB = weight_bytes(build_model(CONFIG, 0).state_dict(), CONFIG, {"task": "mod_add[p=7]"})
PARAMS = [
    ("a", T.ModT(7)),
    ("xs", T.SeqT(T.COLOR, 3)),
    ("g", T.GridT(2, 2)),
    ("t", T.TupleT((T.BOOL, T.COLOR))),
]
ROWS = (
    b'{"a": 3, "xs": [1, 2, 3], "g": [[0, 1], [2, 3]], "t": [true, 4]}\n'
    b'{"a": 6, "xs": [9, 9, 0], "g": [[5, 5], [5, 5]], "t": [false, 0]}\n'
)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def mutated(original: bytes) -> st.SearchStrategy[bytes]:
    """Byte flips, cuts, insertions and repeats of `original` (what damage and careless edits do)."""

    def apply(edits: list[tuple[int, int, bytes]]) -> bytes:
        data = bytearray(original)
        for kind, at, chunk in edits:
            at %= max(1, len(data))
            if kind == 0:
                data[at : at + len(chunk)] = chunk
            elif kind == 1:
                del data[at : at + 1 + len(chunk)]
            elif kind == 2:
                data[at:at] = chunk
            else:
                data[at:at] = bytes(data[at : at + 16]) * 50
        return bytes(data)

    edit = st.tuples(st.integers(0, 3), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=8))
    return st.lists(edit, min_size=1, max_size=4).map(apply)


@FUZZ
@given(
    st.text(max_size=60)
    | mutated(b"[[1, 2], (3, true), -4, 1e3]").map(lambda b: b.decode("utf-8", "replace"))
)
def test_input_values(text: str) -> None:
    with contextlib.suppress(UserError):
        parse_text(text)


@FUZZ
@given(data=mutated(ROWS))
def test_jsonl_input_files(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("rows") / "rows.jsonl"
    path.write_bytes(data)
    with contextlib.suppress(UserError):
        rows_from_jsonl(path, PARAMS)


@FUZZ
@given(data=mutated(BLOB[:600]).map(lambda head: head + BLOB[600:]))
def test_weight_blobs(data: bytes) -> None:
    with contextlib.suppress(UserError):
        read_header(data)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("exported")
    with Catalog(f"sqlite:///{root / 'c.db'}", root / "blobs") as catalog:
        catalog.register_circuit("mod7.add", "(Mod[7], Mod[7]) -> Mod[7]", "", "mod_add[p=7]", None, BLOB)
        export_catalog(catalog, root / "out")
    return root / "out"


MANIFEST_TEXT = (Path(__file__).parents[2] / "stdlib" / "catalog" / "manifest.json").read_bytes()[:4000]


@FUZZ
@given(data=st.data())
def test_catalog_manifests(tmp_path_factory: pytest.TempPathFactory, exported: Path, data) -> None:
    original = (exported / "manifest.json").read_bytes()
    manifest = data.draw(mutated(original) | mutated(MANIFEST_TEXT))
    root = tmp_path_factory.mktemp("import")
    shutil.copytree(exported, root / "out")
    (root / "out" / "manifest.json").write_bytes(manifest)
    with Catalog(f"sqlite:///{root / 'c.db'}", root / "blobs") as catalog:
        try:
            import_catalog(catalog, root / "out")
        except UserError:
            return
        for record in catalog.circuits():  # what an import accepted must load, or refuse cleanly
            with contextlib.suppress(UserError):
                catalog.load_model(record.ref)


CHECKPOINT: bytes | None = None


def checkpoint_bytes(tmp: Path) -> bytes:
    global CHECKPOINT
    if CHECKPOINT is None:
        save_checkpoint(tmp / "c.pt", {"runs": [], "step": 3, "params": {"w": torch.ones(4)}, "curves": {}})
        CHECKPOINT = (tmp / "c.pt").read_bytes()
    return CHECKPOINT


@FUZZ
@given(data=st.data())
def test_training_checkpoints(tmp_path_factory: pytest.TempPathFactory, data) -> None:
    tmp = tmp_path_factory.mktemp("ckpt")
    damaged = data.draw(mutated(checkpoint_bytes(tmp)))
    (tmp / "d.pt").write_bytes(damaged)
    try:
        state = load_checkpoint(tmp / "d.pt")
    except UserError:
        return
    assert isinstance(state, dict)


def test_the_fuzzed_catalog_really_imports_when_undamaged(exported: Path, tmp_path: Path) -> None:
    """The seed of the manifest fuzzer is a valid export (else every case would be a refusal)."""
    with Catalog(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "blobs") as catalog:
        assert [r.ref for r in import_catalog(catalog, exported).circuits] == ["mod7.add@1"]
    assert json.loads((exported / "manifest.json").read_text())["circuits"]
