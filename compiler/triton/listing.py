"""`circ compile --emit kernels`: what each generated kernel is specialised to, then its source."""

from __future__ import annotations

import networkx as nx

from circ.compiler.triton.codegen import Kernel
from circ.compiler.triton.layout import Layout


def listing(graph: nx.MultiDiGraph, layouts: dict[str, Layout], kernels: list[Kernel]) -> str:
    calls = sum(k.calls for k in kernels)
    size = max((layout.base + layout.size for layout in layouts.values()), default=0)
    lines = [
        f"# {graph.graph.get('signature', '')}",
        f"# {len(kernels)} kernel{'s' * (len(kernels) != 1)} for {calls} circuit calls;"
        f" one weight buffer of {size:,} values",
        "# circuits (real size → padded tile):",
    ]
    for name, layout in layouts.items():
        cfg = layout.cfg
        lines.append(
            f"#   {name}: {cfg.n_layers} layer(s), {'causal' if cfg.causal else 'encoder'},"
            f" {'LayerNorm' if cfg.layernorm else 'no LayerNorm'}, {cfg.n_heads} heads × {cfg.d_head};"
            f" d_model {cfg.d_model}→{layout.dp}, d_mlp {cfg.d_mlp}→{layout.mp},"
            f" positions {cfg.n_positions}→{layout.pp}, vocab {cfg.vocab}→{layout.vp},"
            f" out vocab {cfg.out_vocab}→{layout.vop}; weights at {layout.base:,}"
        )
    for kernel in kernels:
        reads = " ".join(f"n{n}" for n in kernel.inputs)
        writes = " ".join(f"n{n}" for n in kernel.outputs)
        lines += [
            "",
            f"# {kernel.name} reads {reads or 'nothing'}; writes {writes}",
            kernel.source.rstrip("\n"),
        ]
    return "\n".join(lines) + "\n"
