"""`--backend auto` by measurement (issue 19).

Where more than one backend can run (triton, on a CUDA device), each runs the program's first rows
and the fastest whose outputs equal the torch reference's runs the rest. A backend that fails or
disagrees is never chosen, so fused kernels never checked on this chip fall back to torch, and what
was measured is reported. Where only torch can run (a CPU), nothing is measured: auto is torch.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass, field

import networkx as nx
import torch

from circ.runtime.execute import Backend, execute

SAMPLE_ROWS = 4096  # enough rows that more than a launch is timed, few enough to cost little
TIMINGS = 3  # runs timed after the first (which compiles and warms); the best counts


@dataclass(frozen=True)
class Choice:
    name: str
    rows: int = 0  # the rows measured on (0: nothing was measured)
    seconds: dict[str, float] = field(default_factory=dict)  # each backend that agreed with torch
    refused: dict[str, str] = field(default_factory=dict)  # each one that did not, and why
    # the chosen backend as measured, run again for the rest (not built twice); None: nothing measured
    backend: Backend | None = field(default=None, compare=False, repr=False)

    @property
    def runs(self) -> str | Backend:
        """What to run: the backend as measured, or the name to build where nothing was measured."""
        return self.name if self.backend is None else self.backend

    def summary(self) -> str:
        """One line for the user, e.g. `auto: triton (1.2 ms) over torch (5.0 ms) on 4,096 rows`."""
        others = [f"{n} ({1e3 * s:.1f} ms)" for n, s in sorted(self.seconds.items()) if n != self.name]
        line = f"auto: {self.name} ({1e3 * self.seconds[self.name]:.1f} ms)"
        line += f" over {', '.join(others)}" if others else ""
        line += f" on {self.rows:,} rows"
        return line + "".join(f"; {n} not used: {why}" for n, why in sorted(self.refused.items()))


def candidates(device: str | torch.device) -> list[str]:
    """The backends `auto` chooses among on `device` (torch, the reference, first)."""
    on_gpu = torch.device(device).type == "cuda" and importlib.util.find_spec("triton") is not None
    return ["torch", "triton"] if on_gpu else ["torch"]


def choose(graph: nx.MultiDiGraph, sample: list[torch.Tensor], backends: dict[str, Backend]) -> Choice:
    """The fastest of `backends` (which include "torch") on `sample` among those whose outputs are
    torch's. An error of torch's own is raised: it is the program's, not a backend's."""
    reference = execute(graph, sample, backends["torch"]).output.cpu()
    seconds, refused = {}, {}
    for name, backend in backends.items():
        try:
            if not torch.equal(execute(graph, sample, backend).output.cpu(), reference):
                refused[name] = "its outputs differ from torch's"
                continue
            seconds[name] = min(_timed(graph, sample, backend) for _ in range(TIMINGS))
        except Exception as exc:  # a backend that cannot run this program here is reported, not chosen
            if name == "torch":
                raise
            refused[name] = f"{type(exc).__name__}: {exc}"
    rows, fastest = sample[0].shape[0] if sample else 1, min(seconds, key=seconds.__getitem__)
    return Choice(fastest, rows, seconds, refused, backends[fastest])


def _timed(graph: nx.MultiDiGraph, sample: list[torch.Tensor], backend: Backend) -> float:
    cuda = backend.device.type == "cuda"
    if cuda:
        torch.cuda.synchronize(backend.device)
    start = time.perf_counter()
    execute(graph, sample, backend)
    if cuda:
        torch.cuda.synchronize(backend.device)
    return time.perf_counter() - start
