"""Examples generated per second, per task family (vectorised numpy; not a test).

`python benchmarks/data_generation.py`. Target: ≥10⁶ examples/s for modular tasks.
"""

from __future__ import annotations

import time

import numpy as np

from circ.learn.data import get_task
from circ.learn.data.domain import enumerate_inputs, sample_inputs
from circ.learn.data.split import examples

CASES = [
    ("mod_add", {"p": 1009}, "enumerate"),  # ~10⁶ inputs
    ("mod_div", {"p": 1009}, "enumerate"),
    ("mod_cubic", {"p": 1009}, "enumerate"),
    ("mod_add", {"p": 97}, "sample"),
    ("seq_sort", {"n": 8}, "sample"),
    ("seq_histogram", {"n": 8}, "sample"),
    ("grid_rot90", {"h": 5, "w": 5}, "sample"),
    ("grid_flood", {"h": 5, "w": 5}, "sample"),
    ("compose(grid_rot90,grid_hmirror,grid_shift_down)", {"h": 5, "w": 5}, "sample"),
]


def rate(name: str, params: dict[str, int], mode: str, n: int = 1_000_000) -> tuple[int, float]:
    task = get_task(name, **params)
    rng = np.random.default_rng(0)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        inputs = enumerate_inputs(task) if mode == "enumerate" else sample_inputs(task, n, rng)
        x, _ = examples(task, inputs)  # inputs → reference outputs → tokens
        best = min(best, time.perf_counter() - start)
    return x.shape[0], x.shape[0] / best


def main() -> None:
    print(f"{'task':<52} {'mode':<10} {'examples':>10} {'examples/s':>14}")
    for name, params, mode in CASES:
        count, per_s = rate(name, params, mode)
        key = get_task(name, **params).key
        print(f"{key:<52} {mode:<10} {count:>10,} {per_s:>14,.0f}", flush=True)


if __name__ == "__main__":
    main()
