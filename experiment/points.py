"""The points the experiment measures: one composed program each, and the monolith trained for it.

A depth point trains a monolith on its own program's task. The points of a length series share one
monolith per budget, trained at length n (`train_length`) on a model of length 4n, and each point
tests it at its own length m on the same task with m live cells (`circ.learn.data.chains`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from circ.experiment.config import ExperimentConfig
from circ.experiment.programs import Program, affine_chain, fold_program, grid_chain

SERIES = {
    "mod": "Mod[97] affine chain",
    "grid": "Grid[5, 5] symmetry chain",
    "max": "max fold over Seq[Color, n]",
    "sum": "sum mod 10 fold over Seq[Color, n]",
}


@dataclass(frozen=True)
class Point:
    series: str  # a SERIES key
    axis: str  # "depth" | "length"
    x: int  # the depth, or the length m
    program: Program  # the composed side at this point
    trains: Program  # the monolith's training point (the program itself for depth; length n for length)
    domain: str  # which `ExperimentConfig` Training: "mod" | "grid" | "fold"

    @property
    def label(self) -> str:
        return f"{SERIES[self.series]}, {self.axis} {self.x}"

    def program_inputs(self, model_inputs: list[np.ndarray]) -> list[np.ndarray]:
        """The program's arguments from inputs in the monolith task's layout: a length point's
        sequence is its last m cells (the cells before them are background padding)."""
        if self.axis == "length":
            return [model_inputs[0][:, -self.x :]]
        return model_inputs


def points(config: ExperimentConfig) -> list[Point]:
    found = [Point("mod", "depth", d, p, p, "mod") for d in config.mod_depths for p in [affine_chain(d)]]
    found += [Point("grid", "depth", d, p, p, "grid") for d in config.grid_depths for p in [grid_chain(d)]]
    n = config.train_length
    for kind in config.folds:
        trains = fold_program(kind, n, 4 * n)
        for f in config.length_factors:
            if f * n > 4 * n:
                continue
            found.append(Point(kind, "length", f * n, fold_program(kind, f * n, 4 * n), trains, "fold"))
    return found
