"""Test helpers: paths to the examples, and golden-file comparison (importable as `support`).

Run `CIRC_UPDATE_GOLDEN=1 python -m pytest` to rewrite golden files after an intended change,
then review the diff like any other code change.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from circ import api
from circ.compiler import nodes as N
from circ.compiler.dot import label

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"

# Circuits the `color_provider` fixture trains: catalog name used in test programs → learn task.
TRAINED = {"t.add": "color_add", "t.max": "color_max"}


def to_text(graph: nx.MultiDiGraph) -> str:
    """A stable plain-text form of a dataflow graph: one line per node, for golden files and diffs."""
    lines = [f"# {graph.graph.get('signature', '')}"]
    for node in sorted(graph.nodes):
        attrs = graph.nodes[node]
        args = ", ".join(f"n{a}" for a in N.args_of(graph, node))
        span = attrs[N.SPAN]
        where = f"{span.line}:{span.column}"
        lines.append(
            f"n{node} = {label(graph, node)} : {attrs[N.TYPE]}"
            + (f" <- {args}" if args else "")
            + f"  @{where}"
        )
    return "\n".join(lines) + "\n"


def example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*.circ"))


def error_files() -> list[Path]:
    return sorted((EXAMPLES / "errors").glob("*.circ"))


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CIRC_UPDATE_GOLDEN") or not path.exists():
        path.write_text(actual)
        if not os.environ.get("CIRC_UPDATE_GOLDEN"):
            pytest.fail(f"golden file {path.name} was missing and has been written; review and commit it")
    assert actual == path.read_text(), (
        f"output differs from {path}; rerun with CIRC_UPDATE_GOLDEN=1 if intended"
    )


# Small graphs for the pass tests: programs over a few declared (never run) circuits.
PASS_PRELUDE = """
circuit inc(c: Color) -> Color learned "t.inc";
circuit plus(a: Color, b: Color) -> Color learned "t.plus";
circuit flip(g: Grid[5, 5]) -> Grid[5, 5] learned "t.flip";
"""


def graph_of(body: str) -> nx.MultiDiGraph:
    return api.compile("t.circ", source=PASS_PRELUDE + body).graph


def counts(graph: nx.MultiDiGraph) -> Counter:
    """Nodes by kind: circuit name, builtin name, or op."""
    return Counter(
        attrs[N.CIRCUIT] if attrs[N.OP] == "circuit" else attrs.get(N.BUILTIN, attrs[N.OP])
        for _, attrs in graph.nodes(data=True)
    )


def circuits(graph: nx.MultiDiGraph) -> list[int]:
    return sorted(n for n, op in graph.nodes(data=N.OP) if op == "circuit")


def unchanged(graph: nx.MultiDiGraph, run) -> nx.MultiDiGraph:
    """Run a pass and check it left its input alone (passes are pure)."""
    before = to_text(graph)
    out = run(graph)
    assert to_text(graph) == before, "the pass mutated its input graph"
    return out


def random_batch(params: list, rows: int, seed: int = 0) -> list:
    """Seeded uniform rows for a program's parameters: one [rows, leaves] tensor each."""
    import torch

    from circ.lang import types as T

    gen = torch.Generator().manual_seed(seed)
    batch = []
    for _, t in params:
        leaves = T.parts(t)
        columns = [torch.randint(leaf.low, leaf.high + 1, (rows,), generator=gen) for leaf in leaves]
        batch.append(torch.stack(columns, dim=1))
    return batch


def shipped_or_skip(graph: nx.MultiDiGraph, provider) -> None:
    """Skip a test whose program needs circuits the stdlib catalog does not ship yet."""
    from circ.circuit.provider import CircuitUnavailable

    missing = []
    for node in sorted(n for n, op in graph.nodes(data=N.OP) if op == "circuit"):
        try:
            provider.load(graph.nodes[node][N.CIRCUIT], *N.call_types(graph, node))
        except CircuitUnavailable:
            missing.append(graph.nodes[node][N.CIRCUIT])
    if missing:
        pytest.skip(f"circuits not shipped yet: {', '.join(sorted(set(missing)))}")


def use_triton_interpreter() -> None:
    """Kernel tests run through Triton's CPU interpreter unless there is a GPU. Call it before triton
    is first imported: `triton.jit` picks an interpreted or a compiled function when it decorates,
    and triton.language decorates its own helpers (`tl.zeros`, …) on import. Nothing but triton
    reads the variable, so it leaves other tests alone."""
    import torch

    if not torch.cuda.is_available():
        os.environ["TRITON_INTERPRET"] = "1"


def register_model(catalog, name: str, task_key: str, model, contract: str = ""):
    """Register a trained model under `name` as training does: its weights name their task."""
    from circ.learn.data import task_from_key
    from circ.learn.model import weight_bytes

    data = weight_bytes(model.state_dict(), model.cfg, {"task": task_key})
    return catalog.register_circuit(name, task_from_key(task_key).signature, contract, task_key, None, data)


def certificate(domain_size: int, accuracy: float = 1.0, *, sha: str, method: str = "exhaustive", **more):
    """A certification result for tests that record certificates by hand."""
    from circ.learn.catalog import Certification

    n_checked = more.pop("n_checked", domain_size if method != "sampled" else None)
    return Certification(
        method=method,
        domain_size=domain_size,
        n_checked=n_checked,
        accuracy=accuracy,
        weights_sha256=sha,
        **more,
    )
