"""Which input cell each output reads: per-position attribution by resampling.

For a sample of inputs, one input position at a time is redrawn uniformly from its range, and each
output token's decoded answer is compared with the unchanged one. `A[j, i]` is the fraction of rows
whose output j changed when input i was redrawn: a causal, model-agnostic measure (no gradients, no
linearisation). The same procedure on the task's reference function gives the dependence the
circuit should have, so the two matrices are compared output by output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from circ.lang.types import parts
from circ.learn.data.domain import sample_inputs
from circ.learn.data.split import examples
from circ.learn.data.task import Task
from circ.learn.data.tokens import split_args

SAMPLE = 2000


@dataclass(frozen=True)
class Attribution:
    model: np.ndarray  # [n_out, n_in]: fraction of rows whose output j moved when input i was redrawn
    reference: np.ndarray  # [n_out, n_in]: the same for the task's reference function
    n_rows: int

    def reads(self, which: str = "model") -> list[int]:
        """Each output's most influential input position."""
        m = self.model if which == "model" else self.reference
        return [int(i) for i in m.argmax(1)]

    def agrees(self) -> list[bool]:
        """Per output: the model's most influential input is one of the reference's (within 1%)."""
        top = self.reference.max(1, keepdims=True)
        best = self.model.argmax(1)
        return [bool(self.reference[j, best[j]] >= top[j, 0] - 0.01) for j in range(self.model.shape[0])]

    def single_cell(self, threshold: float = 0.5) -> bool:
        """Each output depends (in the reference) on exactly one input cell."""
        return bool(((self.reference > threshold).sum(1) == 1).all())

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.n_rows,
            "reads": self.reads(),
            "reference_reads": self.reads("reference"),
            "agrees": self.agrees(),
            "model": np.round(self.model, 4).tolist(),
            "reference": np.round(self.reference, 4).tolist(),
        }


@torch.no_grad()
def attribution(task: Task, model: torch.nn.Module, *, rows: int = SAMPLE, seed: int = 0) -> Attribution:
    rng = np.random.default_rng(seed)
    iface = task.interface
    leaves = [leaf for t in task.arg_types for leaf in parts(t)]
    inputs = sample_inputs(task, rows, rng)
    x, y = examples(task, inputs)
    flat = np.concatenate(inputs, axis=1)  # [rows, n_in] raw leaf values

    def model_out(tokens: np.ndarray) -> np.ndarray:
        return model(torch.from_numpy(tokens), attn_impl="math").argmax(-1).numpy()

    base = model_out(x)
    a_model = np.zeros((iface.n_out, len(leaves)))
    a_ref = np.zeros((iface.n_out, len(leaves)))
    for i, leaf in enumerate(leaves):
        moved = flat.copy()
        moved[:, i] = rng.integers(leaf.low, leaf.low + leaf.size, size=rows)
        args = split_args(iface, moved - np.array([lf.low for lf in leaves]))  # back to raw per argument
        keep = np.ones(rows, dtype=bool) if task.valid is None else task.valid(*args)
        xm, ym = examples(task, args)
        a_model[:, i] = (model_out(xm)[keep] != base[keep]).mean(0)
        a_ref[:, i] = (ym[keep] != y[keep]).mean(0)
    return Attribution(a_model, a_ref, rows)
