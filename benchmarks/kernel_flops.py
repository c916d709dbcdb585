"""FLOPs a row of the fused Triton kernels, counted from the dots `compiler/triton/blocks.py`
writes (padding included), with the last layer at every position and at its query lines only, next
to the floor `compile_speed.py` uses. A count from the code, not a timing: no GPU is needed.

    python benchmarks/kernel_flops.py [affine field …]   (default: every example)
"""

from __future__ import annotations

import sys

from compile_speed import EXAMPLES, program_cost

from circ import api
from circ.compiler import nodes as N
from circ.compiler.passes.fuse import fuse, padded_positions, rows_per_tile
from circ.compiler.triton.codegen import weight_layouts
from circ.compiler.triton.layout import Layout
from circ.learn.catalog import Catalog
from circ.learn.catalog.provider import circuit_config
from circ.settings import packaged_catalog_dir


def layer_flops(lines: int, queries: int, layout: Layout) -> int:
    """One `blocks.layer` on a tile: Q, O and the MLP on the query lines, K and V on every line,
    each head's scores and weighted sum as full-width [queries, lines] dots, and the one-hot pick
    of the query lines' residuals when they are not every line."""
    dp, mp, heads = layout.dp, layout.mp, layout.cfg.n_heads
    macs = 2 * queries * dp * dp + 2 * lines * dp * dp + 2 * heads * queries * lines * dp
    macs += 2 * queries * dp * mp + (queries * lines * dp if queries != lines else 0)
    return 2 * macs


def circuit_flops(layout: Layout, rows: int, live: bool) -> int:
    """One call on a tile of `rows` rows, its last layer live (query lines) or at every position."""
    lines = rows * layout.pp
    queries = rows * layout.query_lines(rows) if live else lines
    earlier = (layout.cfg.n_layers - 1) * layer_flops(lines, lines, layout)
    return earlier + layer_flops(lines, queries, layout) + 2 * queries * layout.dp * layout.vop


def main(names: list[str]) -> None:
    print("| example | every position | query lines only | fewer | floor |\n|---|---|---|---|---|")
    with Catalog("sqlite://", "/tmp/circ-bench-blobs", packaged=packaged_catalog_dir()) as catalog:
        for name in names:
            compiled = api.compile(EXAMPLES / f"{name}.circ")
            planned = fuse(compiled.optimized)
            circuits = {planned.nodes[n][N.CIRCUIT] for n, op in planned.nodes(data=N.OP) if op == "circuit"}
            layouts = weight_layouts(planned, {c: circuit_config(catalog, c) for c in sorted(circuits)})
            kernels: dict[int, list[int]] = {}
            for node, op in planned.nodes(data=N.OP):
                if op == "circuit":
                    kernels.setdefault(planned.nodes[node][N.KERNEL], []).append(node)
            every = live = 0.0
            for members in kernels.values():
                rows = rows_per_tile([padded_positions(planned, m) for m in members])
                for m in members:
                    layout, calls = layouts[planned.nodes[m][N.CIRCUIT]], N.calls(planned, m)
                    every += circuit_flops(layout, rows, live=False) * calls / rows
                    live += circuit_flops(layout, rows, live=True) * calls / rows
            floor = program_cost(compiled.graph, catalog)[0]
            counts = f"{every / 1e3:,.0f} k | {live / 1e3:,.0f} k | {every / live:.2f}×"
            print(f"| {name} | {counts} | {floor / 1e3:,.0f} k |")


if __name__ == "__main__":
    main(sys.argv[1:] or sorted(p.stem for p in EXAMPLES.glob("*.circ")))
