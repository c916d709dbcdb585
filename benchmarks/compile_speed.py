"""Rows/s of composed programs on four executors, against a roofline floor.

(a) naive: the lowered graph on the torch backend, one eager model call per circuit call;
(b) batched: the optimized graph (passes: fold, cse, dce, horizontal batching) on the torch backend;
(c) compiled: (b) with every circuit model wrapped in torch.compile;
(d) triton: the optimized graph as fused Triton kernels (fp32 and bf16). CUDA only: on CPU the
    interpreter is for tests, so this part is skipped;
(e) CUDA graph: (b) captured once as a CUDA graph and replayed (launches and Python paid once).
    CUDA only, and never yet run: a capture that fails (a host copy or sync inside it) is reported
    as failed, with the reason, and the other executors go on.

Programs: 5 and 10 circuit calls over the shipped colour circuits (stdlib/catalog), so nothing is
trained here, and with `--examples` the shipped examples (seeded uniform rows of their inputs).
The floor: FLOPs of every call (the least each model needs: K and V at every position, the rest
only at the read positions in its last layer) / measured matmul peak, and input + output bytes /
measured copy bandwidth; the larger of the two bounds time.
Run: python benchmarks/compile_speed.py [--rows 10000 1000000] [--examples field sequences]
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import torch

from circ import api
from circ.circuit.config import ModelConfig
from circ.circuit.provider import LoadedCircuit
from circ.compiler import nodes as N
from circ.lang import types as T
from circ.learn.catalog import Catalog
from circ.learn.catalog.provider import CatalogProvider, circuit_config
from circ.runtime.execute import execute
from circ.runtime.torch_backend import TorchBackend
from circ.settings import packaged_catalog_dir

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PRELUDE = """
use stdlib.colors;
"""
PROGRAMS = {
    5: "fn main(a: Color, b: Color, c: Color, d: Color) -> Color {\n"
    "  color_max(color_add(color_add(a, b), c), color_max(color_add(c, d), a))\n}",
    10: "fn main(a: Color, b: Color, c: Color, d: Color) -> Color {\n"
    "  let x = color_add(color_add(a, b), c);\n"
    "  let y = color_max(color_add(c, d), a);\n"
    "  let z = color_succ(color_max(x, y));\n"
    "  color_max(color_add(z, color_succ(a)), color_succ(d))\n}",
}


class CompiledProvider:
    """Loads through another provider and wraps each model in torch.compile (once per circuit)."""

    def __init__(self, inner: CatalogProvider) -> None:
        self.inner = inner
        self.cache: dict[str, LoadedCircuit] = {}

    def load(self, name: str, arg_types: tuple[T.Type, ...], out_type: T.Type) -> LoadedCircuit:
        if name not in self.cache:
            loaded = self.inner.load(name, arg_types, out_type)
            self.cache[name] = LoadedCircuit(loaded.interface, torch.compile(loaded.model))
        return self.cache[name]


def model_flops(cfg: ModelConfig) -> int:
    p, q, d, mlp = cfg.n_positions, cfg.n_out, cfg.d_model, cfg.d_mlp
    full = 2 * (4 * p * d * d + 2 * p * p * d + 2 * p * d * mlp)
    last = 2 * (2 * p * d * d + 2 * q * d * d + 2 * q * p * d + 2 * q * d * mlp)
    return (cfg.n_layers - 1) * full + last + 2 * q * d * cfg.out_vocab


def program_cost(graph: nx.MultiDiGraph, catalog: Catalog) -> tuple[int, int]:
    """(FLOPs, bytes) per row: every circuit call; int64 inputs and output read and written once."""
    flops = sum(
        model_flops(circuit_config(catalog, graph.nodes[n][N.CIRCUIT])) * N.calls(graph, n)
        for n, op in graph.nodes(data=N.OP)
        if op == "circuit"
    )
    leaves = sum(len(T.parts(graph.nodes[n][N.TYPE])) for n in [*N.inputs(graph), N.output(graph)])
    return flops, 8 * leaves


def uniform_rows(params: list[tuple[str, T.Type]], rows: int) -> list[torch.Tensor]:
    """Seeded uniform rows of each parameter's leaves, [rows, leaves] each."""
    gen = torch.Generator().manual_seed(0)
    return [
        torch.stack([torch.randint(x.low, x.high + 1, (rows,), generator=gen) for x in T.parts(t)], dim=1)
        for _, t in params
    ]


def timed(run: Callable[[], object], device: torch.device, repeat: int = 3) -> float:
    """Best of `repeat` after one warm-up run (which also compiles)."""
    run()
    best = float("inf")
    for _ in range(repeat):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def peaks(device: torch.device) -> dict[str, float]:
    """Measured matmul FLOP/s (fp32 without TF32, and bf16 on CUDA) and copy bandwidth (B/s)."""
    n = 4096 if device.type == "cuda" else 1024
    torch.backends.cuda.matmul.allow_tf32 = False
    out = {}
    for name, dtype in [("fp32", torch.float32)] + (
        [("bf16", torch.bfloat16)] if device.type == "cuda" else []
    ):
        a = torch.randn(n, n, device=device, dtype=dtype)
        out[name] = 2 * n**3 / timed(lambda a=a: a @ a, device)
    big = torch.empty(1 << (28 if device.type == "cuda" else 25), dtype=torch.uint8, device=device)
    out["bandwidth"] = 2 * big.numel() / timed(lambda: big.clone(), device)
    return out


def executors(
    graph: nx.MultiDiGraph,
    optimized: nx.MultiDiGraph,
    inputs: list[torch.Tensor],
    provider: CatalogProvider,
    device: torch.device,
    compile_: bool,
) -> dict[str, Callable[[], torch.Tensor]]:
    """Each executor as a closure over a backend whose circuits are already loaded (loading and
    hash-checking weights is not what is measured)."""
    eager = TorchBackend(provider, device)
    eager.prepare(graph)
    modes = {
        "(a) naive eager torch": lambda: execute(graph, inputs, eager).output,
        "(b) batched torch": lambda: execute(optimized, inputs, eager).output,
    }
    if compile_:
        compiled = TorchBackend(CompiledProvider(provider), device)
        modes["(c) torch.compile of (b)"] = lambda: execute(optimized, inputs, compiled).output
    if device.type == "cuda":
        from circ.runtime.triton_backend import TritonBackend

        for label, dtype in [("fp32", torch.float32), ("bf16", torch.bfloat16)]:
            backend = TritonBackend(provider, device, dtype=dtype)
            modes[f"(d) triton {label}"] = lambda b=backend: execute(optimized, inputs, b).output
        modes["(e) CUDA graph of (b)"] = cuda_graph(lambda: execute(optimized, inputs, eager).output)
    return modes


def cuda_graph(run: Callable[[], torch.Tensor]) -> Callable[[], torch.Tensor]:
    """`run` captured on its first call, after warm-up runs on a side stream (as PyTorch's CUDA
    graph notes ask), then replayed; each replay rewrites the same output tensor."""
    captured: list[tuple[torch.cuda.CUDAGraph, torch.Tensor]] = []

    def replay() -> torch.Tensor:
        if not captured:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(3):
                    run()
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                output = run()
            captured.append((graph, output))
        graph, output = captured[0]
        graph.replay()
        return output

    return replay


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="*", help="batch sizes (default: 1e4 and 1e6; 1e4 on CPU)")
    parser.add_argument("--no-compile", action="store_true", help="skip (c), torch.compile")
    parser.add_argument("--examples", nargs="*", default=[], help="also these examples/NAME.circ")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(
            1
        )  # OpenMP threads on a shared CPU collapse (benchmarks/RESULTS.md, Contention)
    rows_list = args.rows or ([10**4, 10**6] if device.type == "cuda" else [10**4])
    measured = peaks(device)
    name = (
        torch.cuda.get_device_name() if device.type == "cuda" else platform.processor() or platform.machine()
    )
    print(f"device: {name}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(
        f"measured: fp32 matmul {measured['fp32'] / 1e12:.2f} TFLOP/s"
        + (f", bf16 {measured['bf16'] / 1e12:.1f} TFLOP/s" if "bf16" in measured else "")
        + f", copy {measured['bandwidth'] / 1e9:.1f} GB/s"
    )
    if device.type != "cuda":
        print("(d) triton, (e) CUDA graph: skipped (no CUDA; Triton's interpreter is for tests, not timing)")
    with Catalog("sqlite://", "/tmp/circ-bench-blobs", packaged=packaged_catalog_dir()) as catalog:
        provider = CatalogProvider(catalog, str(device))
        programs = {
            f"{calls}-circuit program": api.compile("bench.circ", source=PRELUDE + body)
            for calls, body in PROGRAMS.items()
        }
        programs |= {f"examples/{e}.circ": api.compile(EXAMPLES / f"{e}.circ") for e in args.examples}
        for title, compiled in programs.items():
            checked, graph, optimized = compiled.checked, compiled.graph, compiled.optimized
            flops, io = program_cost(graph, catalog)
            params = list(checked.function("main").signature.params)
            print(f"\n{title}: {flops / 1e3:.0f} kFLOP and {io} bytes of IO per row")
            for rows in rows_list:
                inputs = [x.to(device) for x in uniform_rows(params, rows)]
                modes = executors(graph, optimized, inputs, provider, device, not args.no_compile)
                reference = modes["(a) naive eager torch"]()
                print(f"  {rows:,} rows")
                speeds = {}
                for label, run in modes.items():
                    try:
                        assert torch.equal(run().cpu(), reference.cpu()), f"{label} disagrees with (a)"
                        speeds[label] = rows / timed(run, device)
                    except Exception as exc:  # a benchmark reports a failing executor and goes on
                        print(
                            f"    {label:26s} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:90]}"
                        )
                        continue
                    ratio = speeds[label] / speeds["(a) naive eager torch"]
                    print(f"    {label:26s} {speeds[label]:14,.0f} rows/s  {ratio:7.1f}× (a)")
                for dtype in [k for k in ("fp32", "bf16") if k in measured]:
                    floor = max(flops / measured[dtype], io / measured["bandwidth"])
                    print(f"    roofline floor ({dtype})      {1 / floor:14,.0f} rows/s")
                triton = speeds.get("(d) triton fp32")
                if triton and "(c) torch.compile of (b)" in speeds:
                    print(
                        f"    triton fp32 / torch.compile: {triton / speeds['(c) torch.compile of (b)']:.2f}×"
                    )


if __name__ == "__main__":
    main()
