"""circ as a library, one line per stage (DESIGN §9).

    compiled = circ.api.compile("examples/affine.circ")        # parse → check → lower → passes
    ran = circ.api.run(compiled, Inputs(assign=["x=3"]), provider)  # inputs → backend → outputs

The CLI, `circ verify`, benchmarks and tests all go through these, so there is one way to compile and
one way to run. `check` stops after the type checker: it needs neither networkx nor torch.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from circ.lang.check import Checked
from circ.lang.check import check as check_program
from circ.lang.errors import UserError
from circ.lang.modules import Program, load, load_text

if TYPE_CHECKING:
    import networkx as nx
    import torch

    from circ.auto_backend import Choice
    from circ.circuit.provider import CircuitProvider
    from circ.learn.catalog import Catalog
    from circ.runtime.execute import Backend, Execution
    from circ.verify.report import Report


class TooDeep(UserError):
    """A program nested deeper than the (recursive) parser, checker and lowering can follow."""


# Python frames per nesting level are ~6 across parse, check and lower; 3.11 runs Python-to-Python
# calls without C recursion, so a deep limit is safe (measured: 5,000 nested calls compile; 8,000
# raise RecursionError cleanly, no crash)
RECURSION_LIMIT = 30_000


@contextmanager
def compiling(path: str | Path) -> Iterator[None]:
    """How every front-end stage runs. The cyclic garbage collector is paused: compilation allocates
    millions of small objects that live until it ends, and re-scanning them was 25–37% of compile
    time at 5k–20k nodes and made parsing superlinear (issue 19; benchmarks/compile_scaling.py);
    reference counting still frees as usual. The recursion limit is raised so nesting deeper than
    ~245 calls compiles, and nesting deeper than that limit is a `TooDeep` error, not a traceback."""
    was, limit = gc.isenabled(), sys.getrecursionlimit()
    gc.disable()
    sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
    try:
        yield
    except RecursionError:
        raise TooDeep(
            f"{path}: expressions nest too deeply to compile; bind inner results with `let`"
        ) from None
    finally:
        sys.setrecursionlimit(limit)
        if was:
            gc.enable()


def check(path: str | Path, source: str | None = None) -> Checked:
    """`source`: the program's text when it is not (or not yet) on disk (the REPL, generated code)."""
    with compiling(path):
        program = load(path) if source is None else load_text(source, str(path))  # it and its `use`s
        return check_program(program)  # resolve names, type every expression and contract


@dataclass(frozen=True)
class Compiled:
    program: Program
    checked: Checked
    entry: str
    graph: nx.MultiDiGraph  # as lowered: every call as written (what traces show)
    optimized: nx.MultiDiGraph  # after the passes (what runs)

    @property
    def params(self) -> list[tuple[str, object]]:
        return list(self.checked.function(self.entry).signature.params)


def compile(path: str | Path, entry: str = "main", source: str | None = None) -> Compiled:
    from circ.compiler.lower import lower
    from circ.compiler.passes import optimize

    with compiling(path):
        checked = check(path, source)
        graph = lower(checked, entry)  # inline functions, unroll combinators → dataflow graph
        return Compiled(
            checked.program, checked, entry, graph, optimize(graph)
        )  # fold, cse, dce, batch, fuse


@dataclass(frozen=True)
class Inputs:
    """Where a run's rows come from: `NAME=VALUE` assignments (one row), a JSON-lines file, or the
    whole input domain."""

    assign: tuple[str, ...] | list[str] = ()
    jsonl: Path | None = None
    whole_domain: bool = False

    def batch(self, params: list[tuple[str, object]]) -> list[torch.Tensor]:
        from circ.runtime.values import domain_batch, rows_from_assignments, rows_from_jsonl, to_batch

        if self.whole_domain:
            return domain_batch(params)  # every input, enumerated in token order
        rows = (
            rows_from_jsonl(self.jsonl, params)
            if self.jsonl
            else rows_from_assignments(list(self.assign), params)
        )
        return to_batch(rows, params)

    def chunks(self, params: list[tuple[str, object]], rows: int) -> Iterator[list[torch.Tensor]]:
        """The same rows, `rows` at a time, produced as they are consumed (the domain is enumerated
        chunk by chunk, a file read line by line)."""
        from circ.runtime.values import domain_chunks, jsonl_chunks

        if self.whole_domain:
            return domain_chunks(params, rows)
        if self.jsonl:
            return jsonl_chunks(self.jsonl, params, rows)
        return iter([self.batch(params)])

    def count(self, params: list[tuple[str, object]]) -> int | None:
        """How many rows there will be, when known without reading them (for a progress bar)."""
        from circ.runtime.values import domain_size

        return domain_size(params) if self.whole_domain else None if self.jsonl else 1


@dataclass(frozen=True)
class Ran:
    """A program run on a batch: its inputs, outputs, and (when traced) every node's values."""

    compiled: Compiled
    inputs: list[torch.Tensor]  # one [rows, leaves] tensor per parameter
    graph: nx.MultiDiGraph  # the graph that ran
    execution: Execution

    @property
    def params(self) -> list[tuple[str, object]]:
        return self.compiled.params

    @property
    def rows(self) -> int:
        return self.execution.output.shape[0]

    def head(self, n: int) -> Ran:
        """The first `n` rows, copied: keeping them does not keep the whole chunk alive."""
        from circ.runtime.execute import Execution

        e = self.execution
        kept = Execution(
            e.output[:n].clone(),
            {k: v[:n].clone() for k, v in e.values.items()},
            {k: v[:n].clone() for k, v in e.confidence.items()},
            {k: v[:n].clone() for k, v in e.needed.items()},
        )
        return Ran(self.compiled, [x[:n].clone() for x in self.inputs], self.graph, kept)


def concat(runs: list[Ran]) -> Ran:
    """Consecutive chunks of one run, as one."""
    import torch

    from circ.runtime.execute import concat_executions

    if len(runs) == 1:
        return runs[0]
    inputs = [torch.cat(xs) for xs in zip(*(r.inputs for r in runs), strict=True)]
    return Ran(runs[0].compiled, inputs, runs[0].graph, concat_executions([r.execution for r in runs]))


def run(
    compiled: Compiled,
    inputs: Inputs | list[torch.Tensor],
    circuits: CircuitProvider,
    backend: str | Backend = "torch",
    trace: bool = False,
    device: str = "cpu",
    chunk_rows: int | None = None,
) -> Ran:
    """Run a compiled program on its circuits; `trace` runs the graph as written and keeps every value.
    `backend`: a name, or one already built (`Choice.backend`, as `choose_backend` measured it)."""
    from circ.runtime.execute import execute

    batch = inputs.batch(compiled.params) if isinstance(inputs, Inputs) else inputs
    graph = compiled.graph if trace else compiled.optimized  # traces show every call, by source
    made = _backend(backend, compiled, batch, circuits, device, chunk_rows, trace)
    return Ran(compiled, batch, graph, execute(graph, batch, made, keep=trace))


def run_chunks(
    compiled: Compiled,
    inputs: Inputs,
    circuits: CircuitProvider,
    backend: str | Backend = "torch",
    device: str = "cpu",
    chunk_rows: int | None = None,
) -> Iterator[Ran]:
    """`run` a chunk of rows at a time, each chunk a `Ran` of its own: memory stays that of one chunk
    whatever the row count, so a caller keeps only what it prints or aggregates. Untraced."""
    from circ.runtime.execute import execute_chunks

    made = _backend(backend, compiled, inputs, circuits, device, chunk_rows)
    graph = compiled.optimized
    for chunk, execution in execute_chunks(graph, inputs.chunks(compiled.params, made.chunk_rows), made):
        yield Ran(compiled, chunk, graph, execution)


def _backend(
    backend: str | Backend,
    compiled: Compiled,
    inputs: Inputs | list[torch.Tensor],
    circuits: CircuitProvider,
    device: str,
    chunk_rows: int | None,
    trace: bool = False,
) -> Backend:
    """The backend to run: as given, measured (`auto`), or built by name."""
    from circ.runtime.backends import make_backend

    if backend == "auto":  # measured: run as it is, not built again
        backend = choose_backend(compiled, inputs, circuits, device, chunk_rows, trace).runs
    return make_backend(backend, circuits, device, chunk_rows) if isinstance(backend, str) else backend


def choose_backend(
    compiled: Compiled,
    inputs: Inputs | list[torch.Tensor],
    circuits: CircuitProvider,
    device: str = "cpu",
    chunk_rows: int | None = None,
    trace: bool = False,
) -> Choice:
    """What `backend="auto"` runs (`circ.auto_backend`): on a CUDA device with triton, the faster
    of torch and triton on the run's first rows among those that agree with torch; else torch,
    with nothing measured."""
    from circ.auto_backend import SAMPLE_ROWS, Choice, candidates, choose
    from circ.runtime.backends import make_backend

    names = candidates(device)
    if len(names) == 1:
        return Choice(names[0])
    if isinstance(inputs, Inputs):
        sample = next(inputs.chunks(compiled.params, SAMPLE_ROWS))
    else:
        sample = [x[:SAMPLE_ROWS] for x in inputs]
    graph = compiled.graph if trace else compiled.optimized
    return choose(graph, sample, {n: make_backend(n, circuits, device, chunk_rows) for n in names})


def verify(path: str | Path, catalog: Catalog, device: str = "cpu", **options: object) -> Report:
    """Check a program, then verify it against its circuits' catalog (`circ.verify.report`)."""
    from circ.verify.report import verify_program

    return verify_program(check(path), catalog, device=device, **options)
