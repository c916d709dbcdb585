"""Prune and transcode every shipped stdlib circuit whose domain can be enumerated; record the sizes,
margins, replacement accuracies and wall times (benchmarks/RESULTS.md, "Circuit extraction").

    python benchmarks/extract_stdlib.py --out /work/artifacts/extract/stdlib [--only mod97.add ...]

Everything goes into a scratch catalog under --out (the shipped stdlib/catalog is only read), the
same library calls `circ extract prune|transcoder` make, with the runtime's certification. Results:
--out/results.json (one object per circuit, appended as each finishes), one JSON line per circuit
on stdout. `--two-layer` also trains two-layer colour circuits (the stdlib ships none) and fits
per-layer and cross-layer transcoders to them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from circ.circuit.config import ModelConfig
from circ.learn.catalog import Catalog
from circ.learn.data import get_task, task_from_key
from circ.learn.data.domain import MAX_ENUMERATE
from circ.learn.extract.prune_circuit import PruneOptions, prune_circuit
from circ.learn.extract.record import weights_bytes
from circ.learn.extract.transcode_circuit import TranscoderOptions, transcode_circuit
from circ.learn.run import OptimConfig, Run
from circ.learn.train import train
from circ.settings import packaged_catalog_dir
from circ.verify.certify import certify


def run_one(catalog: Catalog, name: str, out: Path, methods: list[str]) -> dict:
    row: dict = {"circuit": name}
    record = catalog.get(name)
    row["task"] = record.task
    row["domain"] = task_from_key(record.task).domain_size
    for by in methods:
        start = time.perf_counter()
        report = prune_circuit(
            catalog,
            name,
            PruneOptions(by=by, name=f"{name}.pruned-{by}"),
            certify=lambda ref: certify(catalog, ref),
            out=out / name,
        )
        row[f"prune_{by}"] = _prune_row(report, time.perf_counter() - start)
    start = time.perf_counter()
    tr = transcode_circuit(
        catalog, name, TranscoderOptions(), certify=lambda ref: certify(catalog, ref), out=out / name
    )
    row["transcoder"] = _transcoder_row(tr) | {"seconds": round(time.perf_counter() - start, 1)}
    return row


def _prune_row(report, seconds: float) -> dict:
    r = report.result
    return {
        "heads": [list(r.before.heads), list(r.after.heads)],
        "neurons": [list(r.before.neurons), list(r.after.neurons)],
        "nonzero": [r.before.nonzero, r.after.nonzero],
        "sparsity": r.after.sparsity,
        "margin": [r.base_check.min_margin, r.final_check.min_margin],
        "certified": report.certificate.certified,
        "trials": len(r.trials),
        "cpr": {k: c.cpr for k, c in report.curves.items()},
        "cmd": {k: c.cmd for k, c in report.curves.items()},
        "seconds": round(seconds, 1),
    }


def _transcoder_row(report) -> dict:
    live = [x for x in report.labels if x.fires]
    return {
        "d_sae": report.transcoders.cfg.d_sae,
        "cross_layer": report.transcoders.cfg.cross_layer,
        "fvu": [x.fvu for x in report.layers],
        "l0": [x.l0 for x in report.layers],
        "dead": [x.dead for x in report.layers],
        "replacement_accuracy": report.replacement.accuracy,
        "replacement_wrong": report.replacement.n_wrong,
        "circuit": report.child.ref if report.child else None,
        "not_a_circuit": report.not_a_circuit,
        "labels_exact": sum(1 for x in live if x.exact),
        "labels_live": len(live),
    }


def two_layer(catalog: Catalog, task_name: str, out: Path) -> dict:
    """Train a two-layer circuit for `task_name`, register it, prune it, fit both kinds of transcoder."""
    task = get_task(task_name)
    cfg = ModelConfig.for_interface(task.interface, d_model=32, n_heads=2, d_mlp=64, n_layers=2)
    run = Run(
        task=task_name,
        model=cfg,
        optim=OptimConfig(lr=1e-2, weight_decay=0.1),
        steps=1500,
        frac=1.0,
        target_acc=1.0,
    )
    (result,) = train([run])
    name = f"bench2.{task_name}"
    data = weights_bytes(result.state, cfg, {"task": task.key})
    catalog.register_circuit(name, task.signature, "", task.key, None, data)
    certify(catalog, name)
    row = {"circuit": name, "task": task.key, "domain": task.domain_size, "layers": 2}
    start = time.perf_counter()
    report = prune_circuit(
        catalog, name, PruneOptions(), certify=lambda ref: certify(catalog, ref), out=out / name
    )
    row["prune_magnitude"] = _prune_row(report, time.perf_counter() - start)
    for cross in (False, True):
        start = time.perf_counter()
        options = TranscoderOptions(cross_layer=cross, name=f"{name}.{'clt' if cross else 'transcoder'}")
        tr = transcode_circuit(
            catalog, name, options, certify=lambda ref: certify(catalog, ref), out=out / name
        )
        key = "cross_layer_transcoder" if cross else "transcoder"
        row[key] = _transcoder_row(tr) | {"seconds": round(time.perf_counter() - start, 1)}
    return row


def markdown(rows: list[dict]) -> str:
    """results.json as the RESULTS.md tables."""
    lines = [
        "| circuit | inputs | heads | neurons (magnitude / attribution) | nonzero params (magnitude)"
        " | sparsity (magnitude / attribution) | min margin before → after | CPR zero / mean | s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "skipped" in r:
            continue
        m, a = r["prune_magnitude"], r.get("prune_attribution")
        neurons = f"{'+'.join(map(str, m['neurons'][0]))} → {'+'.join(map(str, m['neurons'][1]))}"
        if a:
            neurons += f" / {'+'.join(map(str, a['neurons'][1]))}"
        heads = f"{'+'.join(map(str, m['heads'][0]))} → {'+'.join(map(str, m['heads'][1]))}"
        seconds = m["seconds"] + (a["seconds"] if a else 0)
        cert = "" if m["certified"] and (not a or a["certified"]) else " (NOT certified)"
        nonzero = f"{m['nonzero'][0]:,} → {m['nonzero'][1]:,}"
        also = f" / {a['sparsity']:.1%}" if a else ""
        lines.append(
            f"| {r['circuit']} | {r['domain']:,} | {heads} | {neurons} | {nonzero}"
            f" | {m['sparsity']:.1%}{also}{cert}"
            f" | {m['margin'][0]:.3f} → {m['margin'][1]:.3f}"
            f" | {m['cpr']['zero']:.2f} / {m['cpr']['mean']:.2f} | {seconds:.0f} |"
        )
    lines += [
        "",
        "| circuit | d_sae | FVU | L0 | dead | replacement (whole domain) | registered"
        " | labels exact / live | s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        for key in ("transcoder", "cross_layer_transcoder"):
            t = r.get(key)
            if not t:
                continue
            name = r["circuit"] + (" (cross-layer)" if key == "cross_layer_transcoder" else "")
            acc = "100%" if t["replacement_wrong"] == 0 else f"{t['replacement_wrong']:,} wrong"
            fvu = " / ".join(f"{x:.4f}" for x in t["fvu"])
            l0 = " / ".join(f"{x:.1f}" for x in t["l0"])
            dead = " / ".join(map(str, t["dead"]))
            registered = t["circuit"] or "no"
            lines.append(
                f"| {name} | {t['d_sae']} | {fvu} | {l0} | {dead} | {acc} | {registered} |"
                f" {t['labels_exact']} / {t['labels_live']} | {t['seconds']:.0f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--by", nargs="*", default=["magnitude", "attribution"])
    parser.add_argument("--big", type=int, default=10**5, help="domains larger than this: magnitude only")
    parser.add_argument("--two-layer", nargs="*", default=None, help="tasks to train as two-layer circuits")
    parser.add_argument("--table", action="store_true", help="print results.json as markdown and stop")
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.json"
    done = json.loads(results_path.read_text()) if results_path.exists() else []
    if args.table:
        print(markdown(done))
        return
    with Catalog(
        f"sqlite:///{args.out / 'catalog.db'}", args.out / "blobs", packaged=packaged_catalog_dir()
    ) as catalog:
        if args.two_layer is not None:
            for task_name in args.two_layer or ["color_add", "color_max"]:
                done.append(two_layer(catalog, task_name, args.out))
                results_path.write_text(json.dumps(done, indent=1))
                print(json.dumps(done[-1]), flush=True)
            return
        # the shipped names (a circuit with extraction rows is copied into the scratch database)
        names = args.only or [c.name for c in catalog.packaged.circuits()]
        for name in names:
            if any(d["circuit"] == name for d in done):
                continue
            if task_from_key(catalog.get(name).task).domain_size > MAX_ENUMERATE:
                done.append({"circuit": name, "skipped": "domain too large to enumerate"})
            else:
                big = task_from_key(catalog.get(name).task).domain_size > args.big
                done.append(run_one(catalog, name, args.out, ["magnitude"] if big else args.by))
            results_path.write_text(json.dumps(done, indent=1))
            print(json.dumps(done[-1]), flush=True)


if __name__ == "__main__":
    main()
