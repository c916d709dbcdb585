"""What `circ analyse` can be pointed at: a `circ train` run directory or a catalogued circuit.

Either becomes a `Subject`: the task, the final model, and — for a run — its curves, its weight
snapshots along training (`circ train --snapshots N`) and its train/val split (the excluded loss is
measured on the training inputs, which a catalogued circuit does not record).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from circ.lang.errors import ConfigError
from circ.learn.catalog import Catalog
from circ.learn.curves import Record, load_curves
from circ.learn.data import Split, Task, make_split, task_from_key
from circ.learn.model import CircuitTransformer, load_model
from circ.learn.run import Run

_SNAPSHOT = re.compile(r"step-(\d+)\.safetensors")


@dataclass(eq=False)
class Subject:
    name: str  # the run's name or the circuit's name@version
    task: Task
    model: CircuitTransformer
    kind: str  # "run" or "circuit"
    run: Run | None = None
    curves: list[Record] = field(default_factory=list)
    snapshots: list[tuple[int, Path]] = field(default_factory=list)  # (step, weights file), by step

    def split(self) -> Split | None:
        """The run's own train/val split (None for a catalogued circuit)."""
        if self.run is None:
            return None
        return make_split(self.task, self.run.frac, self.run.split_seed, self.run.n_samples)


def is_run_dir(path: Path) -> bool:
    return (path / "runs.json").is_file()


def from_run_dir(directory: Path, only: str | None = None) -> list[Subject]:
    """Every run of a `circ train` output directory (or just `only`), with curves and snapshots."""
    try:
        summary = json.loads((directory / "runs.json").read_text())
        curves = load_curves(directory / "curves.json")
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError("run", f"{directory} is not a readable `circ train` output ({exc})") from None
    names = [item["name"] for item in summary]
    if only is not None and only not in names:
        raise ConfigError("run", f"{directory} has no run {only!r} (runs: {', '.join(names)})")
    subjects = []
    for item in summary:
        if only is not None and item["name"] != only:
            continue
        run = Run.from_dict(item["run"])
        folder = directory / run.name
        snaps = sorted(
            (int(m.group(1)), p)
            for p in (folder / "snapshots").glob("step-*.safetensors")
            if (m := _SNAPSHOT.fullmatch(p.name))
        )
        subjects.append(
            Subject(
                name=run.name,
                task=run.build_task(),
                model=load_model(folder / "model.safetensors"),
                kind="run",
                run=run,
                curves=list(curves.get(run.name, [])),
                snapshots=snaps,
            )
        )
    return subjects


def from_catalog(catalog: Catalog, ref: str) -> Subject:
    record = catalog.get(ref)
    model = catalog.load_model(record.ref)
    assert isinstance(model, CircuitTransformer)
    return Subject(name=record.ref, task=task_from_key(record.task), model=model, kind="circuit")


def load_snapshot(path: Path) -> CircuitTransformer:
    with torch.no_grad():
        return load_model(path)
