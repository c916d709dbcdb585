"""Graph passes, each a pure `graph -> graph` function in its own module (STYLE 2), in the order
`optimize` runs them: fold exposes circuit-to-circuit edges, cse and dce shrink the graph, batch
stacks independent calls, fuse plans kernels."""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx

from circ.compiler.passes.batch import batch
from circ.compiler.passes.cse import cse
from circ.compiler.passes.dce import dce
from circ.compiler.passes.fold import fold
from circ.compiler.passes.fuse import fuse

Pass = Callable[[nx.MultiDiGraph], nx.MultiDiGraph]
PASSES: tuple[tuple[str, Pass], ...] = (
    ("fold", fold),
    ("cse", cse),
    ("dce", dce),
    ("batch", batch),
    ("fuse", fuse),
)


def stages(graph: nx.MultiDiGraph) -> list[tuple[str, nx.MultiDiGraph]]:
    """The lowered graph, then the graph after each pass (for `circ compile --emit passes`)."""
    out = [("lower", graph)]
    for name, run in PASSES:
        out.append((name, run(out[-1][1])))
    return out


def optimize(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    return stages(graph)[-1][1]
