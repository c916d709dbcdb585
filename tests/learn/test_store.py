"""The content-addressed blob store: atomic idempotent writes, and reads that refuse a bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from circ.learn.store import BlobStore, StoreError, sha256


def test_put_names_the_file_by_its_hash_and_get_returns_the_bytes(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha = store.put(b"weights")
    assert sha == sha256(b"weights")
    assert store.path(sha) == tmp_path / sha[:2] / f"{sha}.safetensors"
    assert store.get(sha, owner="circuit 'x'") == b"weights"
    assert store.shas() == {sha}


def test_put_is_idempotent_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    first = store.put(b"abc")
    mtime = store.path(first).stat().st_mtime_ns
    assert store.put(b"abc") == first
    assert store.path(first).stat().st_mtime_ns == mtime  # not rewritten
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [f"{first}.safetensors"]


def test_put_repairs_a_corrupted_copy(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha = store.put(b"good bytes")
    store.path(sha).write_bytes(b"bad bytes!")
    store.put(b"good bytes")
    assert store.get(sha, owner="x") == b"good bytes"


def test_get_refuses_a_corrupted_file_naming_owner_and_path(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha = store.put(b"\x00" * 64)
    path = store.path(sha)
    path.write_bytes(b"\x00" * 63 + b"\x01")  # one flipped bit
    with pytest.raises(StoreError) as info:
        store.get(sha, owner="circuit 'mod97.add'")
    message = str(info.value)
    assert "circuit 'mod97.add'" in message and str(path) in message and "corrupted" in message
    assert info.value.path == path


def test_get_refuses_a_truncated_file(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha = store.put(b"0123456789")
    store.path(sha).write_bytes(b"01234")
    with pytest.raises(StoreError, match="corrupted"):
        store.get(sha, owner="x")


def test_get_of_a_missing_file_says_missing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha = sha256(b"never stored")
    with pytest.raises(StoreError) as info:
        store.get(sha, owner="circuit 'mod97.mul'")
    assert "circuit 'mod97.mul'" in str(info.value) and "missing" in str(info.value)
    assert str(store.path(sha)) in str(info.value)


@pytest.mark.parametrize("name", ["../../etc/passwd", "ABC", "a" * 63, "g" * 64])
def test_only_sha256_names_are_paths(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="sha256"):
        BlobStore(tmp_path).path(name)


def test_remove_deletes_one_blob(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    keep, drop = store.put(b"keep"), store.put(b"drop")
    store.remove(drop)
    store.remove(drop)  # already gone: fine
    assert store.shas() == {keep}
