"""Steps and wall time to a whole-domain-exact circuit: LoRA from the parent vs full fine-tuning from
the parent vs training from scratch, for each related-task pair, several seeds each.

All three go through one loop (`circ.learn.adapt.fit`): the same data (`DataPlan.for_task`: half the
table for Mod[97], 100k sampled sequences or grids in batches of 512), AdamW (lr 1e-2, wd 1, betas
0.9/0.98: the stdlib's CPU recipe), evaluation every `--eval-every` steps, and the same stopping rule:
train and validation samples all right, then `circ.verify.certify.certify_model` on the whole domain
(seed 1) returns 100%. Grid domains (10^25) cannot be enumerated: their check is a seeded sample of
`--grid-sample` grids, and their figures are "100% on that sample", never "certified". The seeds of
one method train together as one vmap ensemble; a seed's wall time is from the start of its
ensemble to its stop. Not a test: run

    python benchmarks/adapt.py [--pairs add-sub mul-div …] [--seeds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from dataclasses import replace

import torch

from circ.adapt import stop_check
from circ.learn.adapt import AdapterEnsemble, DataPlan, FitOptions, LoraOptions, fit, related_task
from circ.learn.catalog import Catalog
from circ.learn.data import make_split
from circ.learn.ensemble import Ensemble
from circ.learn.model import build_model
from circ.settings import packaged_catalog_dir

# pair → (shipped parent, related task)
PAIRS = {
    "add-sub": ("mod97.add", "mod_sub"),
    "mul-div": ("mod97.mul", "mod_div"),
    "succ-pred": ("color.succ", "color_pred"),
    "seq-succ-pred": ("seq6.successor", "seq_pred"),
    "reverse-rotate": ("seq6.reverse", "seq_rotate_left"),
    "rot90-rot270": ("grid5.rot90", "grid_rot270"),
}
METHODS = ("lora", "finetune", "scratch")


def run_pair(catalog: Catalog, pair: str, args: argparse.Namespace) -> dict:
    parent_name, task_name = PAIRS[pair]
    record = catalog.get(parent_name)
    parent = catalog.load_model(parent_name)
    task = related_task(record.task, task_name)
    plan = DataPlan.for_task(task)
    grid = task.domain_size > 10**7
    options = FitOptions(steps=args.steps, eval_every=args.eval_every, batch_size=plan.batch_size)
    if grid:
        options = replace(options, steps=args.grid_steps)
    seeds = list(range(args.seeds))
    splits = [make_split(task, plan.frac, s, plan.n_samples) for s in seeds]
    sample = args.grid_sample if grid else 10**6

    check = stop_check(task, seed=1, sample=sample)
    rows = {}
    for method in args.methods:
        if method == "lora":
            ens = AdapterEnsemble(parent, LoraOptions(rank=args.rank), seeds)
        elif method == "finetune":
            ens = Ensemble.stack([copy.deepcopy(parent).requires_grad_() for _ in seeds])
        else:
            ens = Ensemble.stack([build_model(parent.cfg, 100 + s) for s in seeds])
        t0 = time.perf_counter()
        fitted = fit(ens, parent.cfg, splits, options, check, seeds=seeds)
        rows[method] = {
            "steps": [m.steps if m.reached else None for m in fitted],
            "wall_s": [round(m.wall_s, 2) if m.reached else None for m in fitted],
            "final_val_acc": [round(m.curves[-1]["val_acc"], 4) for m in fitted],
            "best_check": [max((a for _, a in m.checks), default=None) for m in fitted],
            "trainable": sum(v[0].numel() for v in ens.params.values()),
            "total_s": round(time.perf_counter() - t0, 1),
        }
        print(f"  {pair} {method}: steps {rows[method]['steps']} wall {rows[method]['wall_s']}", flush=True)
    return {
        "parent": record.ref,
        "task": task.key,
        "check": f"sampled {sample:,} (seed 1)" if grid else f"whole domain ({task.domain_size:,})",
        "cap": options.steps,
        "data": {"frac": plan.frac, "n_samples": plan.n_samples, "batch_size": plan.batch_size},
        "methods": rows,
    }


def _median(values: list) -> float | None:
    got = [v for v in values if v is not None]
    return statistics.median(got) if len(got) == len(values) else None


def report(results: dict) -> None:
    print(f"\n{'pair':16} {'method':9} {'reached':>7} {'median steps':>12} {'median wall':>11}")
    for pair, r in results.items():
        for method, row in r["methods"].items():
            reached = sum(s is not None for s in row["steps"])
            steps, wall = _median(row["steps"]), _median(row["wall_s"])
            shown = "—" if steps is None else f"{steps:g}", "—" if wall is None else f"{wall:g} s"
            print(f"{pair:16} {method:9} {reached:>4}/{len(row['steps'])} {shown[0]:>12} {shown[1]:>11}")
        lora = r["methods"].get("lora")
        for other in ("finetune", "scratch"):
            o = r["methods"].get(other)
            if lora is None or o is None:
                continue
            s_ratio = _ratio(_median(o["steps"]), _median(lora["steps"]))
            w_ratio = _ratio(_median(o["wall_s"]), _median(lora["wall_s"]))
            print(f"{'':16} {other}/lora: steps {s_ratio}, wall {w_ratio}")


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "n/a (a seed did not reach 100% within the cap)"
    return f"{a / b:.2f}×"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=list(PAIRS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--grid-steps", type=int, default=1500)
    parser.add_argument("--grid-sample", type=int, default=100_000)
    parser.add_argument("--eval-every", type=int, default=25)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None, help="write the results here (updated after each pair)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {}
    with Catalog("sqlite://", "/tmp/circ-bench-adapt-blobs", packaged=packaged_catalog_dir()) as catalog:
        for pair in args.pairs:
            results[pair] = run_pair(catalog, pair, args)
            if args.json:
                with open(args.json, "w") as f:
                    json.dump({"args": vars(args), "results": results}, f, indent=1)
    report(results)


if __name__ == "__main__":
    main()
