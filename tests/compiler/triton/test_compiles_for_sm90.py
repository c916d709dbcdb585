"""Every kind of kernel circ generates compiles for an H100/H200 (sm_90) with the installed Triton,
on a machine without a GPU: fused (fp32 and bf16, a one-layer causal circuit chained into itself
and a two-layer LayerNorm encoder with two outputs, so the last layer runs query lines only) and
per layer. The interpreter runs the same kernels for their values; this checks what it cannot:
the bf16 tensor-core branch it never takes (a dtype mismatch there fails here: tried), Triton's
GPU passes, ptxas, and shared memory over sm_90's limit. Its own process: a compiled `triton.jit`
is picked when it decorates, and this session's conftest has chosen the interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("compile_for_sm90.py")
PROGRAM = """
circuit inc(c: Color) -> Color learned "t.inc";
circuit test(xs: Seq[Color, 3]) -> Seq[Bool, 2] learned "t.test";

fn main(xs: Seq[Color, 3]) -> (Color, Seq[Bool, 2]) {
  (inc(inc(xs[0])), test(xs))
}
"""
CONFIGS = {
    "t.inc": {"d_model": 16, "n_heads": 2, "d_mlp": 16, "causal": True},
    "t.test": {"d_model": 8, "n_heads": 1, "d_mlp": 8, "n_layers": 2, "layernorm": True, "causal": False},
}


def test_every_kernel_compiles_to_a_cubin_for_sm90(tmp_path: Path) -> None:
    program = tmp_path / "tiny.circ"
    program.write_text(PROGRAM)
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env |= {"TRITON_DEFAULT_FP_FUSION": "1", "TRITON_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, str(SCRIPT), str(program), "--layers", "--configs", json.dumps(CONFIGS)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines if line.startswith("kernel_")] == [
        "kernel_0 fp32",
        "kernel_0 bf16",
    ]
    for name in ("t.inc", "t.test"):
        at = lines.index(f"{name} per layer:")
        assert [line.split(":")[0] for line in lines[at + 1 : at + 4]] == [
            "embed_layer_kernel",
            "layer_kernel",
            "unembed_kernel",
        ]
    assert all("bytes of cubin" in line for line in lines if not line.endswith("per layer:"))
