"""The kernel cache runs only the code circ generated, from a directory only this user can write."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from circ.compiler.triton.build import KernelCacheError, build

SOURCE = "def kernel_0():\n    return 42\n"


def test_a_planted_module_of_the_right_name_is_never_imported(tmp_path: Path) -> None:
    cache = tmp_path / "kernels"
    cache.mkdir(mode=0o700)
    name = f"circ_kernel_{hashlib.sha256(SOURCE.encode()).hexdigest()[:20]}.py"
    marker = tmp_path / "ran"
    (cache / name).write_text(f"open({str(marker)!r}, 'w').write('x')\ndef kernel_0():\n    return 0\n")
    assert build("kernel_0", SOURCE, cache)() == 42
    assert not marker.exists(), "the planted file's code ran"
    assert (cache / name).read_text() == SOURCE


def test_a_shared_cache_directory_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    with pytest.raises(KernelCacheError, match="not a directory only you can write to"):
        build("kernel_0", SOURCE, shared)
    assert not list(shared.iterdir())
