"""Prune and transcode every shipped stdlib circuit whose domain can be enumerated; record the sizes,
margins, replacement accuracies and wall times (benchmarks/RESULTS.md, "Circuit extraction").

    python benchmarks/extract_stdlib.py --out /work/artifacts/extract/stdlib [--only mod97.add ...]

Everything goes into a scratch catalog under --out (the shipped stdlib/catalog is only read), the
same library calls `circ extract prune|transcoder` make, with the runtime's certification. Results:
--out/results.json (one object per circuit, appended as each finishes) and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from circ.learn.catalog import Catalog
from circ.learn.data import task_from_key
from circ.learn.data.domain import MAX_ENUMERATE
from circ.learn.extract.prune_circuit import PruneOptions, prune_circuit
from circ.learn.extract.transcode_circuit import TranscoderOptions, transcode_circuit
from circ.runtime.certify import certify
from circ.settings import packaged_catalog_dir


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
        r = report.result
        row[f"prune_{by}"] = {
            "heads": [list(r.before.heads), list(r.after.heads)],
            "neurons": [list(r.before.neurons), list(r.after.neurons)],
            "nonzero": [r.before.nonzero, r.after.nonzero],
            "sparsity": r.after.sparsity,
            "margin": [r.base_check.min_margin, r.final_check.min_margin],
            "certified": report.certificate.certified,
            "trials": len(r.trials),
            "cpr": {k: c.cpr for k, c in report.curves.items()},
            "cmd": {k: c.cmd for k, c in report.curves.items()},
            "seconds": round(time.perf_counter() - start, 1),
        }
    start = time.perf_counter()
    tr = transcode_circuit(
        catalog, name, TranscoderOptions(), certify=lambda ref: certify(catalog, ref), out=out / name
    )
    live = [x for x in tr.labels if x.fires]
    row["transcoder"] = {
        "d_sae": tr.transcoders.cfg.d_sae,
        "fvu": [x.fvu for x in tr.layers],
        "l0": [x.l0 for x in tr.layers],
        "dead": [x.dead for x in tr.layers],
        "replacement_accuracy": tr.replacement.accuracy,
        "replacement_wrong": tr.replacement.n_wrong,
        "circuit": tr.child.ref if tr.child else None,
        "certified": tr.certificate.certified if tr.certificate else False,
        "labels_exact": sum(1 for x in live if x.exact),
        "labels_live": len(live),
        "seconds": round(time.perf_counter() - start, 1),
    }
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--by", nargs="*", default=["magnitude", "attribution"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.json"
    done = json.loads(results_path.read_text()) if results_path.exists() else []
    with Catalog(
        f"sqlite:///{args.out / 'catalog.db'}", args.out / "blobs", packaged=packaged_catalog_dir()
    ) as catalog:
        names = args.only or [c.name for c in catalog.circuits() if c.source == "stdlib"]
        for name in names:
            if any(d["circuit"] == name for d in done):
                continue
            if task_from_key(catalog.get(name).task).domain_size > MAX_ENUMERATE:
                done.append({"circuit": name, "skipped": "domain too large to enumerate"})
            else:
                done.append(run_one(catalog, name, args.out, args.by))
            results_path.write_text(json.dumps(done, indent=1))
            print(json.dumps(done[-1]), flush=True)


if __name__ == "__main__":
    main()
