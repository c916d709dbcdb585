"""What one run of the experiment found, as plain data (JSON round-trips): per point, the composed
program's scores and verdict, and per budget the monolith's seeds."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Composed:
    right: dict[str, tuple[int, int]]  # test set → (rows right, rows)
    verdict: str
    circuits: tuple[tuple[str, int, int], ...]  # (catalog name, parameters, calls)
    stored: int  # the budget: distinct circuits' parameters
    executed: int  # parameters applied per input (every call)
    recipe_steps: int | None  # the most steps any of its circuits' stdlib recipes allows
    recipe_examples: int | None  # the most training examples any of them had
    run_s: float
    verify_s: float

    def accuracy(self, test: str) -> float:
        right, rows = self.right[test]
        return right / rows if rows else float("nan")


@dataclass(frozen=True)
class Monolith:
    factor: int  # budget multiple
    params: int
    config: dict[str, int]  # d_model, n_heads, d_mlp, n_layers
    seeds: tuple[int, ...]
    steps: tuple[int, ...]  # updates each seed made (fewer when it reached the target)
    train_examples: int
    accuracy: dict[str, tuple[float, ...]]  # test set → per-seed exact-match accuracy
    rows: dict[str, int]
    train_s: float  # wall time of the ensemble that trained every seed at once

    def mean(self, test: str) -> float:
        return statistics.fmean(self.accuracy[test])

    def spread(self, test: str) -> tuple[float, float]:
        return min(self.accuracy[test]), max(self.accuracy[test])


@dataclass(frozen=True)
class PointResult:
    series: str
    axis: str
    x: int
    program: str  # the .circ file
    tests: dict[str, str]  # test set → how it was drawn
    composed: Composed
    monoliths: tuple[Monolith, ...]
    seen: dict[str, int] = field(default_factory=dict)  # distribution → rows the monolith trained on

    def distributions(self) -> list[str]:
        return [t for t in self.tests if t not in ("held-out", "whole domain")]


@dataclass(frozen=True)
class ExperimentResult:
    config: dict[str, Any]
    machine: dict[str, Any]
    started: str
    wall_s: float
    points: tuple[PointResult, ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExperimentResult:
        points = []
        for p in data["points"]:
            c = p["composed"]
            composed = Composed(
                **{
                    **c,
                    "right": {k: tuple(v) for k, v in c["right"].items()},
                    "circuits": tuple(tuple(x) for x in c["circuits"]),
                }
            )
            monoliths = tuple(
                Monolith(
                    **{
                        **m,
                        "seeds": tuple(m["seeds"]),
                        "steps": tuple(m["steps"]),
                        "accuracy": {k: tuple(v) for k, v in m["accuracy"].items()},
                    }
                )
                for m in p["monoliths"]
            )
            points.append(PointResult(**{**p, "composed": composed, "monoliths": monoliths}))
        return cls(data["config"], data["machine"], data["started"], data["wall_s"], tuple(points))
