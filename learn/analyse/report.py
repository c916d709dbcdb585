"""`circ analyse`'s library side: analyse one `Subject`, write its JSON summary and PNGs.

A circuit with Mod[p] arguments and one output gets the Fourier analysis (mechanism.py); a run of one
with snapshots also gets the progress measures along training and its phases (trajectory.py). Every
circuit gets attention patterns per head; one without a Fourier reading (sequence, grid, colour
circuits) also gets per-position attribution. The summary's `headline` is what the catalog stores.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from circ.learn.analyse.attention import attention_patterns
from circ.learn.analyse.attribution import attribution
from circ.learn.analyse.bases import modulus
from circ.learn.analyse.mechanism import FourierAnalysis, analyse_fourier
from circ.learn.analyse.plots import (
    plot_attention,
    plot_attribution,
    plot_neurons,
    plot_progress,
    plot_spectrum,
)
from circ.learn.analyse.sources import Subject
from circ.learn.analyse.trajectory import DEFAULT_WINDOW, Phases, phases, points_json, progress
from circ.learn.data.domain import sample_inputs
from circ.learn.data.split import examples

FORMAT = "circ.analysis/1"
ATTENTION_ROWS = 512


@dataclass
class Report:
    subject: str
    task: str
    method: str  # "fourier" or "positions": the extraction method it is stored under
    headline: str
    summary: dict[str, Any]  # the JSON written to mechanism.json
    files: list[Path] = field(default_factory=list)
    fourier: FourierAnalysis | None = None
    phases: Phases | None = None

    def artefact(self) -> bytes:
        return json.dumps(self.summary, indent=1, sort_keys=True).encode()

    def catalog_summary(self) -> dict[str, Any]:
        """The small JSON an `extraction` row keeps (the artefact has the rest)."""
        out: dict[str, Any] = {"headline": self.headline, "format": FORMAT, "tool": "circ analyse"}
        for key in ("key_frequencies", "basis", "generator"):
            if key in self.summary:
                out[key] = self.summary[key]
        if "neurons" in self.summary:
            out["single_frequency_share"] = self.summary["neurons"]["single_frequency_share"]
        if "ablation" in self.summary:
            ab = self.summary["ablation"]
            out |= {k: ab[k] for k in ("full_loss", "restricted_loss", "excluded_loss", "excluded_on")}
        return out


def is_fourier_task(subject: Subject) -> bool:
    return modulus(subject.task) is not None and subject.task.interface.n_out == 1


def analyse(subject: Subject, out_dir: Path, window: int = DEFAULT_WINDOW) -> Report:
    """Analyse `subject` and write `mechanism.json` and PNGs under `out_dir` (created)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    title = f"{subject.name} ({subject.task.key}, {subject.kind})"
    summary: dict[str, Any] = {"format": FORMAT, "subject": subject.name, "kind": subject.kind}
    files: list[Path] = []
    fourier = phase = None
    if is_fourier_task(subject):
        fourier = analyse_fourier(subject.task, subject.model, subject.split())
        summary |= fourier.to_json()
        files.append(out_dir / "spectrum.png")
        plot_spectrum(fourier, files[-1], title)
        if fourier.neurons is not None:
            files.append(out_dir / "neurons.png")
            plot_neurons(fourier, files[-1], title)
        method, headline = "fourier", fourier.headline()
    else:
        attr = attribution(subject.task, subject.model)
        summary["attribution"] = attr.to_json()
        files.append(out_dir / "attribution.png")
        plot_attribution(attr, files[-1], title)
        method, headline = "positions", positions_headline(attr.reads(), attr.agrees(), attr.single_cell())
        summary["headline"] = headline
    if subject.curves:
        if subject.run is not None and subject.run.cleanup_window is not None:
            window = subject.run.cleanup_window  # the rule the run itself stopped on
        phase = phases(subject.curves, window)
        summary["phases"] = phase.to_json()
        points = (
            progress(subject, fourier.key_frequencies) if fourier is not None and subject.snapshots else []
        )
        summary["progress"] = points_json(points)
        files.append(out_dir / "progress.png")
        chance = float(np.log(subject.task.interface.out_vocab))
        plot_progress(subject.curves, points, phase, files[-1], f"{title}: {headline}", chance)
    patterns = attention_patterns(subject.model, _sample_tokens(subject))
    summary["attention"] = {"mean_pattern": np.round(patterns.numpy(), 4).tolist(), "rows": ATTENTION_ROWS}
    files.append(out_dir / "attention.png")
    plot_attention(patterns, files[-1], title, _position_labels(subject))
    report = Report(subject.name, subject.task.key, method, headline, summary, files, fourier, phase)
    files.insert(0, out_dir / "mechanism.json")
    _write_atomic(files[0], report.artefact())
    return report


def positions_headline(reads: list[int], agrees: list[bool], single: bool) -> str:
    n = len(reads)
    agree = f"{sum(agrees)} of {n} outputs"
    if single:
        mapping = " ".join(f"{j}←{i}" for j, i in enumerate(reads)) if n <= 8 else ""
        return f"each output reads one input cell; the circuit's choice is the reference's for {agree}" + (
            f" (output←input: {mapping})" if mapping else ""
        )
    return f"outputs depend on several inputs; the most influential is the reference's for {agree}"


def _sample_tokens(subject: Subject) -> torch.Tensor:
    x, _ = examples(subject.task, sample_inputs(subject.task, ATTENTION_ROWS, np.random.default_rng(0)))
    return torch.from_numpy(x)


def _position_labels(subject: Subject) -> list[str]:
    iface = subject.task.interface
    return [f"in{i}" for i in range(iface.n_in)] + ["="] * iface.n_out


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
