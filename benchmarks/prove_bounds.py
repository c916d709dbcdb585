"""Proof by bounds of catalogued circuits: status, minimum margin and time per circuit, beside the
per-distribution sampled evaluation (and, with --exhaustive, the enumerated true minimum margin on
domains small enough, as a cross-check that the bound never exceeds it).

Run: python benchmarks/prove_bounds.py --catalog stdlib/catalog grid5.rot90 seq6.reverse …
     [--distributions] [--exhaustive] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import numpy as np
import torch

from circ.learn.data import task_from_key
from circ.learn.data.domain import MAX_ENUMERATE, enumerate_inputs
from circ.learn.data.split import examples, make_split
from circ.learn.model import CircuitTransformer, load_model
from circ.verify.bounds import prove
from circ.verify.samples import evaluate_distributions


def load(catalog: Path, name: str) -> tuple[CircuitTransformer, str]:
    manifest = json.loads((catalog / "manifest.json").read_text())
    record = [c for c in manifest["circuits"] if c["name"] == name][-1]
    sha = record["weights_sha256"]
    return load_model(catalog / "blobs" / sha[:2] / f"{sha}.safetensors"), record["task"]


@torch.no_grad()
def exhaustive_min_margin(task, model: CircuitTransformer) -> tuple[float, int]:
    x, y = examples(task, enumerate_inputs(task))
    m64 = CircuitTransformer(model.cfg).double()
    m64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    low, wrong = math.inf, 0
    for s in range(0, x.shape[0], 1 << 15):
        logits, t = m64(torch.from_numpy(x[s : s + (1 << 15)])), torch.from_numpy(y[s : s + (1 << 15)])
        margin = logits.gather(-1, t[..., None]).squeeze(-1) - logits.scatter(
            -1, t[..., None], -torch.inf
        ).amax(-1)
        low, wrong = min(low, float(margin.min())), wrong + int((margin <= 0).any(-1).sum())
    return low, wrong


def recipe_training_inputs(name: str) -> tuple[np.ndarray | None, int | None]:
    """The raw inputs (train and validation) of the recipe in code for `name`, and its split seed:
    what sampled evaluation rows must avoid. (For catalog weights built from that recipe.)"""
    from circ.stdlib_build import RECIPES

    if name not in RECIPES:
        return None, None
    run = RECIPES[name].run()
    split = make_split(run.build_task(), run.frac, run.split_seed, run.n_samples, run.mixture)
    n_in = run.build_task().interface.n_in
    return np.concatenate([split.train_x.numpy(), split.val_x.numpy()])[:, :n_in], run.split_seed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="+")
    parser.add_argument("--catalog", type=Path, default=Path("stdlib/catalog"))
    parser.add_argument("--distributions", action="store_true")
    parser.add_argument("--exhaustive", action="store_true")
    parser.add_argument("--max-regions", type=int, default=20_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(
        f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread, {time.ctime()}"
    )
    rows = []
    for name in args.names:
        model, key = load(args.catalog, name)
        task = task_from_key(key)
        result = prove(model, task, max_regions=args.max_regions)
        row = {"name": name, **result.summary()}
        line = f"{name}: {result.status}, min margin ≥ {result.min_margin:.3f}, {result.time_s:.1f} s"
        line += f", {row['regions_bounded']} regions, open {row['uncovered_at_most']} inputs"
        if args.exhaustive and task.domain_size <= MAX_ENUMERATE:
            start = time.perf_counter()
            truth, wrong = exhaustive_min_margin(task, model)
            row["exhaustive"] = {"min_margin": truth, "wrong": wrong, "time_s": time.perf_counter() - start}
            line += (
                f" | exhaustive: min margin {truth:.3f}, {wrong} wrong, {row['exhaustive']['time_s']:.1f} s"
            )
        if args.distributions:
            train_raw, train_seed = recipe_training_inputs(name)
            results = evaluate_distributions(
                task, model, seed=1, training_inputs=train_raw, training_seed=train_seed, n=20_000
            )
            row["distributions"] = [
                {
                    "name": r.distribution,
                    "n": r.n_checked,
                    "wrong": r.n_wrong,
                    "exhaustive": r.exhaustive,
                    "upper": r.upper_bound,
                }
                for r in results
            ]
            line += " | " + " ".join(f"{r.distribution} {r.n_wrong}/{r.n_checked}" for r in results)
        print(line, flush=True)
        rows.append(row)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))


if __name__ == "__main__":
    main()
