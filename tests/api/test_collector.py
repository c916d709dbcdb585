"""The collector around start-up and exit: paused while imports run, what they made frozen, collection
as usual afterwards — and the `circ` command freezes before its exit whatever way the command ends."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from circ.collector import imports_paused

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Each test starts and ends with nothing frozen, so the suite's own objects stay collectable."""
    gc.collect()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.collect()


@pytest.fixture
def fresh(unfrozen: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a fresh `circ run`: Triton, which other tests load, out of sight."""
    monkeypatch.delitem(sys.modules, "triton", raising=False)


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_imports_run_with_the_collector_paused_and_what_they_made_is_frozen(fresh: None) -> None:
    assert gc.isenabled()
    before = gc.get_freeze_count()
    with imports_paused():
        assert not gc.isenabled()
        made = [Cycle() for _ in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + len(made)


def test_garbage_made_after_the_freeze_is_still_collected(fresh: None) -> None:
    with imports_paused():
        pass
    Cycle()  # unreachable at once: only the cyclic collector can free it
    assert gc.collect() >= 1


def test_a_paused_collector_stays_paused(fresh: None) -> None:
    gc.disable()
    try:
        with imports_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_nothing_is_frozen_once_triton_is_loaded(unfrozen: None) -> None:
    import triton  # noqa: F401  (loaded, as after a `--backend triton` run)

    with imports_paused():
        Cycle()
    assert gc.get_freeze_count() == 0


def test_a_triton_run_exits_without_leak_reports(tmp_path: Path) -> None:
    """Frozen at exit, Triton's nanobind objects would each be reported as leaked on stderr."""
    env = {**os.environ, "TRITON_INTERPRET": "1", "CIRC_HOME": str(tmp_path)}
    program = str(ROOT / "examples" / "affine.circ")
    command = [sys.executable, "-c", "from circ.cli import main; main()", "run", program, "-i", "x=3"]
    command += ["--backend", "triton"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert "1 row in" in done.stdout
    assert "nanobind" not in done.stderr


def test_the_command_freezes_before_exiting_even_through_an_exit() -> None:
    """`circ --version` ends in typer's Exit: the freeze still runs (reported from an atexit hook)."""
    script = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count()))\n"
        "sys.argv = ['circ', '--version']\n"
        "from circ.cli import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("circ ")
    frozen = int(done.stdout.split("frozen ")[1])
    assert frozen > 10_000  # everything the CLI's imports made
