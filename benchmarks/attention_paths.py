"""The runtime's attention paths against SDPA (the path every certificate was computed with), on the
shipped circuits: whole domains where they can be enumerated, else seeded random inputs (issue 19).

For each circuit: how many inputs decode differently, the largest |Δ logit|, the certified least
margin (an answer can only change where |Δ logit| reaches half of it), and µs per row of each path
at 4,096-row batches on one thread.

With `--precision bf16` both paths compute in bf16 and the margins are the bf16 certificates' (which
are computed on the runtime's path): how far the choice of kernel moves a bf16 logit, next to the
margin an answer would need to lose.

Run: python benchmarks/attention_paths.py [--sample 100000] [--precision bf16] [NAME ...]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator

import torch

from circ.circuit.interface import CircuitInterface
from circ.circuit.signature import parse_signature
from circ.lang import types as T
from circ.learn.catalog.manifest import PackagedCatalog
from circ.learn.model import DTYPES
from circ.runtime.torch_backend import attention, call_tokens
from circ.runtime.values import domain_rows, domain_size
from circ.settings import packaged_catalog_dir

BATCH = 1 << 12


def batches(params: list, sample: int) -> Iterator[list[torch.Tensor]]:
    """The whole domain when it has at most `sample` inputs, else `sample` seeded uniform ones."""
    size = domain_size(params)
    gen = torch.Generator().manual_seed(0)
    for start in range(0, min(size, sample), BATCH):
        stop = min(start + BATCH, size, sample)
        if size <= sample:
            yield domain_rows(params, start, stop)
            continue
        yield [
            torch.stack(
                [torch.randint(x.low, x.high + 1, (stop - start,), generator=gen) for x in T.parts(t)], 1
            )
            for _, t in params
        ]


def per_row(model: torch.nn.Module, tokens: torch.Tensor, options: dict[str, str]) -> float:
    model(tokens, **options)
    start = time.perf_counter()
    for _ in range(5):
        model(tokens, **options)
    return (time.perf_counter() - start) / 5 / tokens.shape[0] * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*", help="circuits (default: every shipped one-layer circuit)")
    parser.add_argument("--sample", type=int, default=10**6, help="inputs per circuit at most")
    parser.add_argument("--precision", choices=sorted(DTYPES), default="fp32")
    args = parser.parse_args()
    torch.set_num_threads(1)
    catalog = PackagedCatalog(packaged_catalog_dir())
    entries = json.loads((packaged_catalog_dir() / "manifest.json").read_text())["circuits"]
    latest = {c["name"]: c for c in sorted(entries, key=lambda c: c["version"])}
    cpu = torch.device("cpu")
    print("| circuit | path | inputs | decoded differently | max abs Δ logit | least margin | "
          "µs/row (path) | µs/row (SDPA) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for name in args.names or sorted(latest):
        entry = latest[name]
        model = catalog.load_model(name).to(DTYPES[args.precision])
        options = attention(model, cpu)
        if not args.names and (model.cfg.n_layers != 1 or not options):
            continue
        arg_types, out_type = parse_signature(entry["signature"])
        params = [(f"a{i}", t) for i, t in enumerate(arg_types)]
        iface = CircuitInterface(tuple(arg_types), out_type)
        n, differ, delta = 0, 0, 0.0
        with torch.no_grad():
            for batch in batches(params, args.sample):
                tokens = call_tokens(iface, batch, 1, cpu)
                fast, reference = model(tokens, **options), model(tokens, attn_impl="sdpa")
                n += tokens.shape[0]
                differ += int((fast.argmax(-1) != reference.argmax(-1)).any(-1).sum())
                delta = max(delta, float((fast.float() - reference.float()).abs().max()))
            timing = (per_row(model, tokens, options), per_row(model, tokens, {"attn_impl": "sdpa"}))
        held = [c for c in entry.get("certificates", []) if c["precision"] == args.precision]
        margins = [c["min_margin"] for c in held if c.get("min_margin") is not None]
        whole = "all " if n == domain_size(params) else "sampled "
        least = min(margins, default=float("nan"))
        print(f"| {name} | {options['attn_impl']} | {whole}{n:,} | {differ} | {delta:.1e} | "
              f"{least:.3f} | {timing[0]:.2f} | {timing[1]:.2f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
