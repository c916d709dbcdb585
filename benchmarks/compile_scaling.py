"""Compile time and memory per stage on generated programs of growing size (issue 19, Deliver 3).

Each program is `main(x, y: Mod[97])` with n circuit calls over the stdlib's Mod[97] declarations:
`chain` makes every call depend on the previous two (nothing batches), `wide` makes n/4 independent
groups of four dependent calls (batching stacks them), `nested` reaches n calls through functions
of ten calls, each level calling the one below ten times (inlining unrolls them). A 10⁵-call
`chain` is 2.6 MB of source, past the parser's 512k-character limit: `nested` is how a program
reaches 10⁵ calls. Linear compile time shows as a flat µs/call column. Each size runs in a fresh
process, so its peak RSS is its own (`ru_maxrss`). Times are CPU seconds of the process
(`time.process_time`), so a shared machine slows the wall clock but not the figures (much).
Run: nice -n 10 python benchmarks/compile_scaling.py [--calls 1000 10000 100000] [--shape chain wide nested]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import subprocess
import sys
import time

OPS = ("add", "sub", "mul", "sum_squares")


def nested(calls: int) -> str:
    """`calls` (a power of ten ≥ 10) circuit calls as functions of ten calls, each level calling the
    one below: level 0 calls circuits, level k calls level k - 1."""
    levels = round(math.log10(calls))
    if 10**levels != calls:
        raise SystemExit(f"--shape nested needs a power of ten, got {calls}")
    lines = ["use stdlib.modular;"]
    for level in range(levels):
        callee = (lambda i: OPS[i % len(OPS)]) if level == 0 else (lambda _i, lv=level: f"f{lv - 1}")
        name = "main" if level == levels - 1 else f"f{level}"
        lines += [f"fn {name}(x: Mod[97], y: Mod[97]) -> Mod[97] {{", f"  let v0 = {callee(0)}(x, y);"]
        lines += ["  let v1 = " + callee(1) + "(v0, x);"]
        lines += [f"  let v{i} = {callee(i)}(v{i - 1}, v{i - 2});" for i in range(2, 10)]
        lines += ["  v9", "}"]
    return "\n".join(lines) + "\n"


def program(calls: int, shape: str) -> str:
    """A program with `calls` circuit calls, one `let` per call."""
    if shape == "nested":
        return nested(calls)
    lines = ["use stdlib.modular;", "fn main(x: Mod[97], y: Mod[97]) -> Mod[97] {"]
    if shape == "chain":
        lines += ["  let v0 = add(x, y);", "  let v1 = mul(v0, x);"]
        for i in range(2, calls):
            lines.append(f"  let v{i} = {OPS[i % len(OPS)]}(v{i - 1}, v{i - 2});")
        last = f"v{calls - 1}"
    else:  # groups of 4: each group starts from the inputs and a constant of its own
        groups = max(1, calls // 4)
        for g in range(groups):
            lines.append(f"  let g{g}a = add(x, {g % 97});")
            lines.append(f"  let g{g}b = mul(g{g}a, y);")
            lines.append(f"  let g{g}c = sub(g{g}b, {(g * 7) % 97});")
            lines.append(f"  let g{g}d = sum_squares(g{g}c, x);")
        # fold the groups pairwise so every call is live (dce keeps them)
        level = [f"g{g}d" for g in range(groups)]
        depth = 0
        while len(level) > 1:
            nxt = []
            for j in range(0, len(level) - 1, 2):
                name = f"r{depth}_{j}"
                lines.append(f"  let {name} = add({level[j]}, {level[j + 1]});")
                nxt.append(name)
            if len(level) % 2:
                nxt.append(level[-1])
            level, depth = nxt, depth + 1
        last = level[0]
    lines += [f"  {last}", "}"]
    return "\n".join(lines) + "\n"


def measure(calls: int, shape: str) -> dict[str, object]:
    """One size, in this process: seconds per stage, node counts, peak RSS."""
    from circ import api

    source = program(calls, shape)
    # as `api.compile` runs the stages: with the collector paused where this tree does that
    with getattr(api, "compiling", lambda _: contextlib.nullcontext())("gen.circ"):
        return _stages(source, calls, shape)


def _stages(source: str, calls: int, shape: str) -> dict[str, object]:
    from circ import api
    from circ.compiler.lower import lower
    from circ.compiler.passes import PASSES

    seconds: dict[str, float] = {}
    start = time.process_time()
    checked = api.check("gen.circ", source)
    seconds["parse+check"] = time.process_time() - start
    start = time.process_time()
    graph = lower(checked, "main")
    seconds["lower"] = time.process_time() - start
    nodes = graph.number_of_nodes()
    for name, run in PASSES:
        start = time.process_time()
        graph = run(graph)
        seconds[name] = time.process_time() - start
    circuits = sum(1 for _, op in graph.nodes(data="op") if op == "circuit")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"calls": calls, "shape": shape, "nodes": nodes, "circuit_nodes": circuits,
            "seconds": seconds, "rss_mb": rss_mb}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, nargs="+", default=[1000, 10000, 100000])
    shapes = ["chain", "wide", "nested"]
    parser.add_argument("--shape", nargs="+", default=shapes, choices=shapes)
    parser.add_argument("--before", help="also run each size on this tree (a PYTHONPATH holding `circ`)")
    parser.add_argument("--one", nargs=2, metavar=("CALLS", "SHAPE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(int(args.one[0]), args.one[1])))
        return
    stages = ["parse+check", "lower", "fold", "cse", "dce", "batch", "fuse"]
    print("| tree | shape | calls | nodes | " + " | ".join(stages) + " | total s | µs/call | peak RSS |")
    print("|---" * (len(stages) + 7) + "|")
    trees = [("after", None)] + ([("before", args.before)] if args.before else [])
    for shape in args.shape:
        for calls in args.calls:
            for tree, path in trees:  # alternated per size, each size in fresh processes
                env = dict(os.environ, PYTHONPATH=path) if path else None
                command = [sys.executable, __file__, "--one", str(calls), shape]
                out = subprocess.run(command, capture_output=True, text=True, env=env)
                if out.returncode != 0:
                    tail = out.stderr.strip().splitlines()[-1:] or ["?"]
                    print(f"| {tree} | {shape} | {calls:,} | failed: {tail[0][:80]} |", flush=True)
                    continue
                r = json.loads(out.stdout)
                s = r["seconds"]
                total = sum(s.values())
                cells = " | ".join(f"{s[k]:.2f}" for k in stages)
                print(
                    f"| {tree} | {shape} | {calls:,} | {r['nodes']:,} | {cells} | {total:.2f} | "
                    f"{total / calls * 1e6:.0f} | {r['rss_mb']:.0f} MB |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
