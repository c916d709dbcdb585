"""Compile circ's Triton kernels ahead of time for an H100/H200 (sm_90), with no GPU: Triton's
own pipeline (TTIR → TTGIR → LLVM → PTX → ptxas, bundled in its wheel), as a chip would on first
launch. It checks what the CPU interpreter cannot: the bf16 tensor-core branch (`NATIVE`), which
the interpreter never takes, Triton's GPU passes, ptxas, and shared memory per block. It runs
nothing, and it uses the Triton installed here (the H200 image has 3.6). Run it without
TRITON_INTERPRET (a compiled `triton.jit` is picked when it decorates), so the test starts it as
its own process:

    python tests/compiler/triton/compile_for_sm90.py PROGRAM.circ [--configs JSON] [--layers]

`--configs`: {circuit name: ModelConfig fields} for the program's circuits; without it, the shipped
stdlib's sizes (an example: `examples/sequences.circ`, minutes in fp32). No weights are read:
kernels are specialised to sizes only. Prints one line per kernel and precision: seconds, cubin
bytes, warps and shared memory.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import networkx as nx
import triton
from triton.backends.compiler import GPUTarget

from circ.circuit.config import ModelConfig
from circ.circuit.interface import CircuitInterface
from circ.compiler import nodes as N
from circ.compiler.lower import lower
from circ.compiler.passes import optimize
from circ.compiler.passes.fuse import fuse, rows_per_tile
from circ.compiler.triton import layer_kernels
from circ.compiler.triton.build import build
from circ.compiler.triton.codegen import generate, weight_layouts
from circ.compiler.triton.layout import Layout
from circ.lang.check import check
from circ.lang.modules import load_text
from circ.learn.catalog.manifest import PackagedCatalog
from circ.learn.catalog.provider import circuit_config
from circ.settings import packaged_catalog_dir

TARGET = GPUTarget("cuda", 90, 32)  # H100 / H200: compute capability 9.0, 32-thread warps
SHARED = 227 * 1024  # shared memory a block may use on sm_90; a launch over it fails
FUSED = {"w": "*fp32", "x": "*i32", "y": "*i32", "conf": "*fp32", "rows": "i32"}


def compile_one(fn: object, signature: dict[str, str], constants: dict[str, object]) -> str:
    types = {**signature, **dict.fromkeys(constants, "constexpr")}
    start = time.perf_counter()
    kernel = triton.compile(
        triton.compiler.ASTSource(fn=fn, signature=types, constexprs=constants), target=TARGET
    )
    seconds = time.perf_counter() - start
    meta = kernel.metadata
    if meta.shared > SHARED:
        raise SystemExit(f"{fn}: {meta.shared:,} B of shared memory, over sm_90's {SHARED:,}")
    size = len(kernel.asm["cubin"])
    return f"{seconds:.1f} s, {size:,} bytes of cubin, {meta.num_warps} warps, {meta.shared:,} B shared"


def fused(graph: nx.MultiDiGraph, configs: dict[str, ModelConfig]) -> None:
    """The optimized, planned graph's kernels, each in fp32 and in bf16 on tensor cores."""
    planned = fuse(optimize(graph))
    layouts = weight_layouts(planned, configs)
    with tempfile.TemporaryDirectory() as cache:
        os.chmod(cache, 0o700)
        for kernel in generate(planned, layouts):
            fn = build(kernel.name, kernel.source, Path(cache))
            for bf16 in (False, True):
                signature = {**FUSED, "w": "*bf16" if bf16 else "*fp32"}
                how = compile_one(fn, signature, {"BF16": bf16, "NATIVE": True})
                print(f"{kernel.name} {'bf16' if bf16 else 'fp32'}: {how}", flush=True)


def layers(layout: Layout) -> None:
    """The unfused path's three kernels for one circuit, fp32."""
    c, rows = layout.constants(), rows_per_tile([layout.pp])
    shape = {k: c[k] for k in ("PP", "P", "D", "DP", "MP", "H", "DH", "SCALE", "LN", "CAUSAL")}
    common = {"R": rows, "BF16": False, "NATIVE": True}
    first = {"tokens": "*i32", "w": "*fp32", "resid": "*fp32", "rows": "i32"}
    offsets = {k: c[k] for k in ("EMBED", "POS", "LAYERS")}
    print(
        "embed_layer_kernel:",
        compile_one(layer_kernels.embed_layer_kernel, first, {**shape, **offsets, **common}),
    )
    middle = {"resid_in": "*fp32", "w": "*fp32", "resid_out": "*fp32", "rows": "i32"}
    print("layer_kernel:", compile_one(layer_kernels.layer_kernel, middle, {**shape, **common}))
    head = {k: c[k] for k in ("PP", "P", "N_IN", "D", "DP", "VO", "VOP", "LN", "FINAL", "UNEMBED")}
    last = {
        "resid": "*fp32",
        "w": "*fp32",
        "tokens": "*i32",
        "confidence": "*fp32",
        "logits_out": "*fp32",
        "rows": "i32",
    }
    print(
        "unembed_kernel:",
        compile_one(layer_kernels.unembed_kernel, last, {**head, "STORE_LOGITS": True, **common}),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("program", type=Path)
    parser.add_argument("--configs", type=json.loads, default=None, help="default: the stdlib's sizes")
    parser.add_argument("--layers", action="store_true", help="also the per-layer kernels of each circuit")
    args = parser.parse_args()
    assert os.environ.get("TRITON_INTERPRET", "0") in ("", "0"), "run without TRITON_INTERPRET"
    graph = lower(check(load_text(args.program.read_text(), str(args.program))))
    shipped = PackagedCatalog(packaged_catalog_dir()) if args.configs is None else None
    configs: dict[str, ModelConfig] = {}
    for node, op in graph.nodes(data=N.OP):
        name = graph.nodes[node].get(N.CIRCUIT)
        if op != "circuit" or name in configs:
            continue
        if shipped is not None:
            configs[name] = circuit_config(shipped, name)
        else:
            iface = CircuitInterface(*N.call_types(graph, node))
            configs[name] = ModelConfig.for_interface(iface, **args.configs[name])
    fused(graph, configs)
    if args.layers:
        for name, cfg in sorted(configs.items()):
            print(f"{name} per layer:")
            layers(Layout(cfg))


if __name__ == "__main__":
    main()
