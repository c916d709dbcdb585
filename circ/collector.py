"""The cyclic garbage collector around a command's start-up and exit: paused, then told to skip
what the imports made.

Importing torch and the stages makes ~200k objects that live as long as the process. The cyclic
collector re-scans them on every full collection while they are made (0.32 s of a one-row
`circ run`, 456 collections), and the interpreter's exit collects them once more before tearing its
modules down (another ~0.5–1 s). Frozen, they are never scanned again: reference counting still
frees them, and everything made after the freeze is collected as usual (issue 19; RESULTS.md,
round 7: `circ run -i` of a Mod[97] program 2.1–2.9 s → 1.3–2.0 s wall, alternated).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def imports_paused() -> Iterator[None]:
    """Around a command's imports: no collections while they run, and what they made frozen after
    (it is the program's code and torch's, alive until exit)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        _freeze()
        if was:
            gc.enable()


def freeze_for_exit() -> None:
    """Before the interpreter exits: what is alive now is not scanned by its last collection.
    Objects freed by reference counting during the teardown are still freed; files and databases
    are closed by the `with` blocks that opened them, before this runs."""
    _freeze()


def _freeze() -> None:
    """Not once Triton is loaded: its nanobind bindings report each of their objects that a frozen
    cycle keeps alive at exit as a leak (hundreds of lines on stderr after a Triton run)."""
    if "triton" not in sys.modules:
        gc.freeze()
