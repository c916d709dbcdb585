"""The Triton backend: a whole program in a handful of fused kernels (DESIGN §5).

Like every backend it supplies only circuit calls to the execution loop (`runtime.execute`).
`fuse=True` (the default) plans kernels with `passes.fuse` (unless the graph already carries a
plan) and generates one kernel per chain (`compiler.triton.codegen`): a kernel's first member launches
it, so the loop's structural builtins run only outside kernels. `fuse=False` runs each circuit call
as one launch per layer plus one for unembed + argmax (`compiler.triton.layer_kernels`).

Runs on CUDA, or on CPU under TRITON_INTERPRET=1 (slow; for tests). fp32 matches the torch backend
token for token (IEEE dots, logits within ~1e-6); bf16 rounds dot operands to bf16.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import torch

from circ.circuit.provider import CircuitProvider, LoadedCircuit
from circ.compiler import nodes as N
from circ.compiler.passes.fuse import fuse as plan_kernels
from circ.compiler.passes.fuse import rows_per_tile
from circ.compiler.triton.build import DEFAULT_CACHE
from circ.compiler.triton.codegen import ALIGN, Kernel, generate, weight_layouts
from circ.compiler.triton.layout import Layout
from circ.lang import types as T
from circ.runtime.backends import check_available, interpreting
from circ.runtime.torch_backend import call_tokens, unstack

CHUNK_ROWS = 1 << 18  # rows per pass: only [rows, leaves] values live between kernels
LAYER_ROWS = 1 << 16  # rows per launch when unfused: the residual stream goes through memory


class TritonBackend:
    def __init__(
        self,
        provider: CircuitProvider,
        device: str | torch.device = "cuda",
        dtype: torch.dtype = torch.float32,
        fuse: bool = True,
        cache_dir: Path = DEFAULT_CACHE,
    ) -> None:
        self.provider = provider
        self.device = torch.device(device)
        if dtype not in (torch.float32, torch.bfloat16):
            raise ValueError(f"the triton backend computes in float32 or bfloat16, not {dtype}")
        self.dtype, self.fuse, self.cache_dir = dtype, fuse, cache_dir
        self.chunk_rows = CHUNK_ROWS
        self._programs: dict[int, tuple[nx.MultiDiGraph, _Program]] = {}

    def prepare(self, graph: nx.MultiDiGraph) -> _Program:
        """Load and pack every circuit, generate and build the kernels (once per graph)."""
        cached = self._programs.get(id(graph))
        if cached is not None and cached[0] is graph:
            return cached[1]
        check_available(self.device)
        from circ.compiler.triton.build import build

        planned = graph
        if self.fuse and not any(N.KERNEL in graph.nodes[n] for n in graph.nodes):
            planned = plan_kernels(graph)
        loaded: dict[str, LoadedCircuit] = {}
        for node, op in planned.nodes(data=N.OP):
            name = planned.nodes[node].get(N.CIRCUIT)
            if op == "circuit" and name not in loaded:
                loaded[name] = self.provider.load(name, *N.call_types(planned, node))
        layouts = weight_layouts(planned, {name: c.model.cfg for name, c in loaded.items()})
        weights = _pack_all(loaded, layouts).to(self.device, self.dtype)
        kernels = []
        if self.fuse:
            kernels = [(k, build(k.name, k.source, self.cache_dir)) for k in generate(planned, layouts)]
        program = _Program(self, planned, layouts, weights, kernels, loaded)
        self._programs[id(graph)] = (graph, program)
        return program

    @property
    def bf16(self) -> bool:
        return self.dtype == torch.bfloat16

    @property
    def native(self) -> bool:
        return not interpreting()


class _Program:
    """One graph's circuits packed into one weight buffer, and its kernels (when fused).

    Fused, a kernel computes several circuit nodes at once: its first member (in execution order)
    reads the kernel's inputs and launches it, and every other member reads the first, whose call
    left their results waiting."""

    def __init__(
        self,
        backend: TritonBackend,
        graph: nx.MultiDiGraph,
        layouts: dict[str, Layout],
        weights: torch.Tensor,
        kernels: list[tuple[Kernel, object]],
        loaded: dict[str, LoadedCircuit],
    ) -> None:
        self.backend, self.graph, self.layouts, self.weights, self.loaded = (
            backend,
            graph,
            layouts,
            weights,
            loaded,
        )
        self.kernels: dict[int, tuple[Kernel, object]] = {}  # first member → kernel
        self.first: dict[int, int] = {}  # every member → its kernel's first member
        for kernel, launch in kernels:
            head = min(kernel.outputs)
            self.kernels[head] = (kernel, launch)
            self.first.update({m: head for m in kernel.outputs})
        self.waiting: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def reads(self, node: int) -> list[int]:
        if node not in self.first:
            return N.args_of(self.graph, node)
        head = self.first[node]
        return list(self.kernels[head][0].inputs) if node == head else [head]

    def call(self, node: int, values: list[torch.Tensor], rows: int) -> tuple[torch.Tensor, torch.Tensor]:
        if node not in self.first:
            return self._layers(node, values)
        if node == self.first[node]:
            self._launch(*self.kernels[node], values, rows)
        return self.waiting.pop(node)

    def _launch(self, kernel: Kernel, launch: object, values: list[torch.Tensor], rows: int) -> None:
        import triton

        device = self.backend.device
        if values:
            x = torch.cat(values, dim=1).to(torch.int32).contiguous()
        else:
            x = torch.zeros(rows, 1, dtype=torch.int32, device=device)
        widths = [T.width(self.graph.nodes[n][N.TYPE]) for n in kernel.outputs]
        y = torch.empty(rows, sum(widths), dtype=torch.int32, device=device)
        sure = torch.empty(rows, kernel.calls, dtype=torch.float32, device=device)
        grid = (triton.cdiv(rows, kernel.rows_per_tile),)
        launch[grid](self.weights, x, y, sure, rows, BF16=self.backend.bf16, NATIVE=self.backend.native)
        column = call = 0
        for node, width in zip(kernel.outputs, widths, strict=True):
            k = N.calls(self.graph, node)
            self.waiting[node] = (
                y[:, column : column + width].long(),
                sure[:, call : call + k].min(dim=1).values,
            )
            column, call = column + width, call + k

    def _layers(self, node: int, args: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """One circuit node, unfused: per-layer launches over its (possibly k-stacked) rows."""
        name = self.graph.nodes[node][N.CIRCUIT]
        iface = self.loaded[name].interface
        k = N.calls(self.graph, node)
        tokens = call_tokens(iface, args, k, self.backend.device)
        native = self.backend.native
        pieces = [
            run_layers(self.layouts[name], self.weights, tokens[s : s + LAYER_ROWS], native)
            for s in range(0, tokens.shape[0], LAYER_ROWS)
        ]
        out = torch.cat([p[0] for p in pieces]).long()
        sure = torch.cat([p[1] for p in pieces])
        return unstack(iface, out, sure, k)


def run_layers(
    layout: Layout, weights: torch.Tensor, tokens: torch.Tensor, native: bool, store_logits: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """One circuit on tokens [rows, P] by per-layer launches → (output tokens [rows, n_out] int32,
    confidence [rows], logits [rows, n_out, out_vocab] when asked)."""
    import triton

    from circ.compiler.triton import layer_kernels as K

    cfg, c = layout.cfg, layout.constants()
    rows, device = tokens.shape[0], weights.device
    bf16 = weights.dtype == torch.bfloat16
    tile = rows_per_tile([layout.pp])
    grid = (triton.cdiv(rows, tile),)
    shape = {k: c[k] for k in ("PP", "P", "D", "DP", "MP", "H", "DH", "SCALE", "LN", "CAUSAL")}
    common = {"R": tile, "BF16": bf16, "NATIVE": native}
    resid = torch.empty(rows, layout.pp, layout.dp, dtype=weights.dtype, device=device)
    tok = tokens.to(device, torch.int32).contiguous()
    offsets = {k: c[k] for k in ("EMBED", "POS", "LAYERS")}
    K.embed_layer_kernel[grid](tok, weights, resid, rows, **shape, **offsets, **common)
    for layer in range(1, cfg.n_layers):
        out = torch.empty_like(resid)
        start = c["LAYERS"] + layer * c["LAYER_SIZE"]
        K.layer_kernel[grid](resid, weights[start:], out, rows, **shape, **common)
        resid = out
    n_out = cfg.n_out
    out_tokens = torch.empty(rows, n_out, dtype=torch.int32, device=device)
    sure = torch.empty(rows, dtype=torch.float32, device=device)
    logits = torch.empty(rows if store_logits else 1, n_out, cfg.out_vocab, device=device)
    head = {k: c[k] for k in ("PP", "P", "N_IN", "D", "DP", "VO", "VOP", "LN", "FINAL", "UNEMBED")}
    K.unembed_kernel[grid](
        resid, weights, out_tokens, sure, logits, rows, **head, STORE_LOGITS=store_logits, **common
    )
    return out_tokens, sure, logits if store_logits else None


def _pack_all(loaded: dict[str, LoadedCircuit], layouts: dict[str, Layout]) -> torch.Tensor:
    from circ.compiler.triton.pack import pack

    end = max((layout.base + layout.size for layout in layouts.values()), default=0)
    flat = torch.zeros(-(-end // ALIGN) * ALIGN + ALIGN)
    for name, layout in layouts.items():
        flat[layout.base : layout.base + layout.size] = pack(loaded[name].model, layout)
    return flat
