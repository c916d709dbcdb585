"""How long the editor and the REPL make a user wait: `circ lsp`'s check of a document on each change
(`circ.editor.Document.update`, every example), and one REPL input evaluated on the shipped circuits
(`circ.session.Session.evaluate`: check twice, lower, run one row with a trace).
Run: python benchmarks/editor_latency.py
"""

from __future__ import annotations

import platform
import statistics
import time
from pathlib import Path

import torch

from circ.editor import Document
from circ.learn.catalog.provider import CatalogProvider
from circ.session import Session
from circ.settings import Settings

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
REPEAT = 20


def timed(work, repeat: int = REPEAT) -> float:
    """Median seconds of `work()` after one warm-up call (the parser's tables, the circuits' weights)."""
    work()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    torch.set_num_threads(1)
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, one thread")
    print("| document | lines | check on change (median) |")
    print("|---|---|---|")
    for path in sorted(EXAMPLES.glob("*.circ")):
        text = path.read_text()
        doc = Document(str(path))
        seconds = timed(lambda d=doc, t=text: d.update(t))
        print(f"| {path.name} | {len(text.splitlines())} | {seconds * 1000:.1f} ms |")
    with Settings.from_env(db="sqlite://").open_catalog() as catalog:
        session = Session(CatalogProvider(catalog), catalog)
        session.load(EXAMPLES / "symmetries.circ")
        print("| REPL input | calls | evaluate (median) |")
        print("|---|---|---|")
        for text, calls in (("half_turn(g0)", 2), ("main(g0)", 7)):
            session.let("let g0: G = [[1,0,0,0,0],[0,2,0,0,0],[0,0,3,0,0],[0,0,0,4,0],[0,0,0,0,5]];")
            print(f"| `{text}` | {calls} | {timed(lambda t=text: session.evaluate(t), 10) * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
