"""Vertical fusion planning: which circuit calls run together in one kernel.

Inside a fused kernel every value is a register tile, so a chain `f(g(x))` never writes g's tokens
to memory: g's argmax feeds f's embedding gather directly, and the structural builtins between them
are free renamings of token columns. This pass only plans; it labels every circuit node with
`N.KERNEL` (0, 1, …), numbered so that each kernel's inputs come from earlier kernels or the inputs.

A kernel processes `rows_per_tile` rows at a time, every call on the same rows, so a call with P
positions (padded to a power of two) works on a [rows × P, d] tile. The tile must be at least
`MIN_TILE` tall (tl.dot's minimum) and about `TILE` tall at most (registers), which bounds how
different the calls of one kernel may be: a 64-position grid circuit and a 4-position colour
circuit go to different kernels. `MAX_CALLS` bounds the generated code (and its compile time).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import networkx as nx

from circ.compiler import nodes as N
from circ.compiler.graph_copy import copy_graph
from circ.lang import types as T

TILE = 64  # rows × positions per tile
MIN_TILE = 16  # tl.dot needs every dimension >= 16
MAX_CALLS = 32


def fuse(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    g = copy_graph(graph)
    deps = _circuit_deps(g)
    waiting = {c: len(d) for c, d in deps.items()}
    users: dict[int, list[int]] = {c: [] for c in deps}
    for c, d in deps.items():
        for dep in d:
            users[dep].append(c)
    # each call's positions and call count, derived once: re-deriving every member's per candidate
    # was 350k derivations for 20k nodes (issue 19); a kernel keeps running totals instead
    sizes = {c: (padded_positions(g, c), N.calls(g, c)) for c in deps}
    ready = [c for c, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    kernel, kernel_sizes = 0, _Sizes()
    while ready:
        node = _first_fitting(ready, sizes, kernel_sizes)
        if node is None:  # nothing fits this kernel: start the next one with the lowest ready node
            kernel, kernel_sizes = kernel + 1, _Sizes()
            node = heapq.heappop(ready)
        kernel_sizes = kernel_sizes.plus(*sizes[node])
        g.nodes[node][N.KERNEL] = kernel
        for user in users[node]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, user)
    return g


@dataclass(frozen=True)
class _Sizes:
    """What `_fits` needs of a kernel's members: their calls and their smallest and largest positions."""

    calls: int = 0
    low: int = 1 << 62
    high: int = 0

    def plus(self, positions: int, calls: int) -> _Sizes:
        return _Sizes(self.calls + calls, min(self.low, positions), max(self.high, positions))

    def fits(self) -> bool:
        return self.calls <= MAX_CALLS and rows_per_tile([self.high]) * self.low >= MIN_TILE


def _first_fitting(ready: list[int], sizes: dict[int, tuple[int, int]], kernel: _Sizes) -> int | None:
    """Pop the lowest ready node that fits the kernel (the rest stay ready), or None."""
    if kernel.calls >= MAX_CALLS:  # every call adds at least one: nothing fits
        return None
    skipped, found = [], None
    while ready:
        node = heapq.heappop(ready)
        if kernel.plus(*sizes[node]).fits():
            found = node
            break
        skipped.append(node)
    for node in skipped:
        heapq.heappush(ready, node)
    return found


def padded_positions(g: nx.MultiDiGraph, node: int) -> int:
    """Positions of one call (argument tokens, then one query per output token), padded to 2^k."""
    arg_types, out_type = N.call_types(g, node)
    positions = sum(T.width(t) for t in arg_types) + T.width(out_type)
    return 1 << (positions - 1).bit_length()


def rows_per_tile(positions: list[int]) -> int:
    return max(1, TILE // max(positions))


def _circuit_deps(g: nx.MultiDiGraph) -> dict[int, set[int]]:
    """For each circuit node, the circuit nodes whose results it reads (through any builtins)."""
    feeds: dict[int, set[int]] = {}  # node → the circuits its value comes from
    deps: dict[int, set[int]] = {}
    for node in N.topological_order(g):
        upstream = set().union(*(feeds[a] for a in N.args_of(g, node)))
        if g.nodes[node][N.OP] == "circuit":
            deps[node] = upstream
            feeds[node] = {node}
        else:
            feeds[node] = upstream
    return deps
