"""The Triton backend: a whole program in a handful of fused kernels (DESIGN §5).

`fuse=True` (the default) plans kernels with `passes.fuse` (unless the graph already carries a
plan), generates one kernel per chain (`compiler.triton.codegen`) and launches them in order; only
the structural builtins after the last kernel run as torch ops. `fuse=False` runs each circuit call
as one launch per layer plus one for unembed + argmax (`compiler.triton.layer_kernels`), with the
rest of the program in torch, like the torch backend.

Runs on CUDA, or on CPU under TRITON_INTERPRET=1 (slow; for tests). fp32 matches the torch backend
token for token (IEEE dots, logits within ~1e-6); bf16 rounds dot operands to bf16.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import torch

from circ.compiler import nodes as N
from circ.compiler.passes.fuse import fuse as plan_kernels
from circ.compiler.passes.fuse import rows_per_tile
from circ.compiler.triton.build import DEFAULT_CACHE
from circ.compiler.triton.codegen import ALIGN, Kernel, generate, weight_layouts
from circ.compiler.triton.layout import Layout
from circ.lang import types as T
from circ.runtime.provider import CircuitProvider, LoadedCircuit
from circ.runtime.torch_backend import Execution, builtin, call_tokens, concat_executions, unstack

CHUNK_ROWS = 1 << 18  # rows per pass: only [rows, leaves] values live between kernels
LAYER_ROWS = 1 << 16  # rows per launch when unfused: the residual stream goes through memory


class BackendUnavailable(Exception):
    """The requested backend cannot run here (no triton, or no GPU and no interpreter)."""


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def check_available(device: torch.device) -> None:
    # the device first: importing triton without TRITON_INTERPRET would fix its helpers as compiled
    if device.type != "cuda" and not interpreting():
        raise BackendUnavailable(
            "the triton backend needs a CUDA GPU (on CPU it runs only under TRITON_INTERPRET=1, for tests)"
        )
    try:
        import triton  # noqa: F401
    except ImportError:
        raise BackendUnavailable("the triton backend needs the triton package (pip install triton)") from None


@dataclass
class _Program:
    graph: nx.MultiDiGraph  # with a fusion plan when fused
    layouts: dict[str, Layout]
    weights: torch.Tensor  # every circuit's packed weights, one buffer
    kernels: list[tuple[Kernel, object]]  # (plan, launchable jit function), in launch order
    loaded: dict[str, LoadedCircuit]


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
        self.dtype = dtype
        self.fuse = fuse
        self.cache_dir = cache_dir
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
        program = _Program(planned, layouts, weights, kernels, loaded)
        self._programs[id(graph)] = (graph, program)
        return program

    @torch.no_grad()
    def run(self, graph: nx.MultiDiGraph, inputs: list[torch.Tensor], keep: bool = False) -> Execution:
        """Run on `inputs` (one `[rows, width]` tensor per entry parameter), as `TorchBackend.run`."""
        program = self.prepare(graph)
        rows = inputs[0].shape[0] if inputs else 1
        parts = [
            self._run_chunk(program, [x[s : s + CHUNK_ROWS] for x in inputs], min(CHUNK_ROWS, rows - s), keep)
            for s in range(0, rows, CHUNK_ROWS)
        ]
        return concat_executions(parts)

    def _run_chunk(self, program: _Program, inputs: list[torch.Tensor], rows: int, keep: bool) -> Execution:
        graph = program.graph
        values: dict[int, torch.Tensor] = {
            node: x.to(self.device, torch.long) for node, x in zip(N.inputs(graph), inputs, strict=True)
        }
        confidence: dict[int, torch.Tensor] = {}
        for kernel, launch in program.kernels:
            self._launch(program, kernel, launch, values, confidence, rows)
        for node in nx.topological_sort(graph):
            if node in values:
                continue
            attrs = graph.nodes[node]
            args = [values[a] for a in N.args_of(graph, node)]
            if attrs[N.OP] == "const":
                flat = T.flatten(attrs[N.TYPE], attrs[N.VALUE])
                values[node] = torch.tensor(flat, dtype=torch.long, device=self.device).expand(rows, -1)
            elif attrs[N.OP] == "builtin":
                arg_types = [graph.nodes[a][N.TYPE] for a in N.args_of(graph, node)]
                values[node] = builtin(attrs, arg_types, args)
            elif attrs[N.OP] == "circuit":
                values[node], confidence[node] = self._layers(program, graph, node, args)
            else:
                values[node] = args[0]
        output = values[N.output(graph)]
        return Execution(output, values if keep else {}, confidence)

    def _launch(
        self,
        program: _Program,
        kernel: Kernel,
        launch: object,
        values: dict[int, torch.Tensor],
        confidence: dict[int, torch.Tensor],
        rows: int,
    ) -> None:
        import triton

        graph = program.graph
        if kernel.inputs:
            x = torch.cat([values[n] for n in kernel.inputs], dim=1).to(torch.int32).contiguous()
        else:
            x = torch.zeros(rows, 1, dtype=torch.int32, device=self.device)
        widths = [len(T.parts(graph.nodes[n][N.TYPE])) for n in kernel.outputs]
        y = torch.empty(rows, sum(widths), dtype=torch.int32, device=self.device)
        sure = torch.empty(rows, kernel.calls, dtype=torch.float32, device=self.device)
        grid = (triton.cdiv(rows, kernel.rows_per_tile),)
        launch[grid](program.weights, x, y, sure, rows, BF16=self._bf16, NATIVE=self._native)
        column = call = 0
        for node, width in zip(kernel.outputs, widths, strict=True):
            k = N.calls(graph, node)
            values[node] = y[:, column : column + width].long()
            confidence[node] = sure[:, call : call + k].min(dim=1).values
            column, call = column + width, call + k

    def _layers(
        self, program: _Program, graph: nx.MultiDiGraph, node: int, args: list[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One circuit node, unfused: per-layer launches over its (possibly k-stacked) rows."""
        name = graph.nodes[node][N.CIRCUIT]
        iface = program.loaded[name].interface
        k = N.calls(graph, node)
        tokens = call_tokens(iface, args, k, self.device)
        pieces = [
            run_layers(program.layouts[name], program.weights, tokens[s : s + LAYER_ROWS], self._native)
            for s in range(0, tokens.shape[0], LAYER_ROWS)
        ]
        out = torch.cat([p[0] for p in pieces]).long()
        sure = torch.cat([p[1] for p in pieces])
        return unstack(iface, out, sure, k)

    @property
    def _bf16(self) -> bool:
        return self.dtype == torch.bfloat16

    @property
    def _native(self) -> bool:
        return not interpreting()


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
