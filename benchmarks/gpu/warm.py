"""Compile one example's fused Triton kernels (fp32, or bf16) into Triton's cache before the GPU
session's tests and benchmarks need them, and say how long that took.

Compiling is most of a first launch's cost: on the 2-core CPU VM, ahead of time for sm_90, one
fp32 kernel took 36 s (combinators' second) to 353 s (sequences), bf16 8–185 s, one kernel at a
time (benchmarks/RESULTS.md, round 14). `session.sh` starts one of these per example and precision, in
parallel on the chip machine's cores. Triton keys its cache on the source and on how it
specialised the launch's integers (a row count divisible by 16 or not), so both kinds of row count
the later steps use are launched here: 24 (the tests) and 32 (the benchmarks' 10⁴… rows).

    python benchmarks/gpu/warm.py sequences fp32
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from circ import api
from circ.learn.catalog import Catalog
from circ.learn.catalog.provider import CatalogProvider
from circ.runtime.execute import execute
from circ.runtime.triton_backend import TritonBackend
from circ.settings import packaged_catalog_dir

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks/
from compile_speed import EXAMPLES, uniform_rows


def main(example: str, precision: str) -> None:
    device = "cuda" if torch.cuda.is_available() else "cpu"  # cpu: the interpreter, a check of this script
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[precision]
    compiled = api.compile(EXAMPLES / f"{example}.circ")
    with Catalog(
        "sqlite://", f"/tmp/circ-warm-{example}-{precision}", packaged=packaged_catalog_dir()
    ) as catalog:
        backend = TritonBackend(CatalogProvider(catalog, device), device, dtype=dtype)
        for rows in (24, 32):
            start = time.perf_counter()
            execute(compiled.optimized, uniform_rows(compiled.params, rows), backend)
            if device == "cuda":
                torch.cuda.synchronize()
            print(f"warm {example} {precision} {rows} rows: {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
