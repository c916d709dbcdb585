"""Named input distributions over colour cells (Grid[h, w], Seq[Color, n]): seeded and vectorised.

Uniform grids are almost never what a user passes: ARC grids are mostly background. Measured on the
first stdlib grid circuits (issue 12): 0 errors on 10^6 uniform grids, yet dmirror was wrong on 9.9%
of grids with a single non-zero cell. So circuits are trained on a mixture of these and evaluated
on each one by name.

Every sampler maps `(n, shape, rng)` to raw cells `[n, h·w]` (row-major; a sequence is a 1×n grid).
A distribution whose support is small (a single odd cell on a 5×5 grid: 2,250 grids) also lists
that support exactly (`support`), so an evaluation can cover it whole instead of sampling it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import combinations

import numpy as np

from circ.lang.errors import ConfigError
from circ.lang.types import parts
from circ.learn.data.task import Task

N_COLOURS = 10
BACKGROUND = 0  # ARC's background colour
MAX_SPARSE = 8
SUPPORT_LIMIT = 200_000  # a distribution with at most this many distinct inputs is listed, not sampled

Shape = tuple[int, int]
Sampler = Callable[[int, Shape, np.random.Generator], np.ndarray]


def uniform(n: int, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, N_COLOURS, size=(n, shape[0] * shape[1]), dtype=np.int64)


def constant(n: int, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    c = rng.integers(0, N_COLOURS, size=(n, 1), dtype=np.int64)
    return np.repeat(c, shape[0] * shape[1], axis=1)


def one_odd(n: int, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """A constant grid of any colour with one cell of another colour."""
    cells = shape[0] * shape[1]
    out = constant(n, shape, rng)
    other = (out[:, 0] + rng.integers(1, N_COLOURS, size=n)) % N_COLOURS
    out[np.arange(n), rng.integers(0, cells, size=n)] = other
    return out


def sparse(k: int) -> Sampler:
    """Background 0 with exactly `k` non-zero cells at distinct places."""

    def draw(n: int, shape: Shape, rng: np.random.Generator) -> np.ndarray:
        cells = shape[0] * shape[1]
        if k > cells:
            raise ConfigError("distribution", f"sparse{k} needs at least {k} cells, the input has {cells}")
        out = np.full((n, cells), BACKGROUND, dtype=np.int64)
        places = np.argsort(rng.random((n, cells)), axis=1)[:, :k]  # k distinct cells per row
        out[np.arange(n)[:, None], places] = rng.integers(1, N_COLOURS, size=(n, k))
        return out

    return draw


def two_colour(n: int, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """Two random colours, each cell the second with a random per-grid density in (0.1, 0.9)."""
    cells = shape[0] * shape[1]
    a = rng.integers(0, N_COLOURS, size=(n, 1))
    b = (a + rng.integers(1, N_COLOURS, size=(n, 1))) % N_COLOURS
    density = rng.uniform(0.1, 0.9, size=(n, 1))
    return np.where(rng.random((n, cells)) < density, b, a).astype(np.int64)


PATTERN_KINDS, PATTERN_PERIODS = 4, 3


def _pattern(
    shape: Shape, kind: np.ndarray, period: np.ndarray, phase: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Rows of stripes (kind 0), columns (1), diagonals (2), anti-diagonals (3): colour b where
    `(coord + phase) // period` is odd, else a. Parameters are `[n]` arrays."""
    h, w = shape
    r, c = np.arange(h)[None, :, None], np.arange(w)[None, None, :]
    kind, period, phase, a, b = (v.reshape(-1, 1, 1) for v in (kind, period, phase, a, b))
    coord = np.select([kind == 0, kind == 1, kind == 2], [r + 0 * c, c + 0 * r, r + c], default=r - c + w)
    on = ((coord + phase) // period) % 2 == 1
    return np.where(on, b, a).reshape(-1, h * w).astype(np.int64)


def pattern(n: int, shape: Shape, rng: np.random.Generator) -> np.ndarray:
    """Two-colour structure: stripes of rows or columns, a checkerboard-like diagonal, with a random
    period (1–3) and phase."""
    period = rng.integers(1, PATTERN_PERIODS + 1, size=n)
    phase = rng.integers(0, 2 * PATTERN_PERIODS, size=n) % (2 * period)
    a = rng.integers(0, N_COLOURS, size=n)
    b = (a + rng.integers(1, N_COLOURS, size=n)) % N_COLOURS
    return _pattern(shape, rng.integers(0, PATTERN_KINDS, size=n), period, phase, a, b)


DISTRIBUTIONS: dict[str, Sampler] = {
    "uniform": uniform,
    **{f"sparse{k}": sparse(k) for k in range(1, MAX_SPARSE + 1)},
    "constant": constant,
    "one_odd": one_odd,
    "two_colour": two_colour,
    "pattern": pattern,
}

# The training mixture (weights sum to 1). Low-entropy components take most of it, because a uniform
# sample almost never contains them; uniform keeps the circuit right on busy grids.
MIXTURES: dict[str, dict[str, float]] = {
    "arc": {
        "uniform": 0.30,
        **{f"sparse{k}": 0.30 / MAX_SPARSE for k in range(1, MAX_SPARSE + 1)},
        "constant": 0.05,
        "one_odd": 0.10,
        "two_colour": 0.15,
        "pattern": 0.10,
    },
    # mostly uniform, with the extremes a uniform sample almost never holds (all 0, all 9, one odd
    # cell): for circuits whose answer depends on every cell (seq min, sort), where uniform inputs
    # are most of what there is to learn (measured: min on "arc" missed 4,904 of 10^6, all with min 3–4)
    "seq": {"uniform": 0.60, "constant": 0.10, "one_odd": 0.15, "two_colour": 0.15},
}


def cell_shape(task: Task) -> Shape:
    """The (h, w) of a task's single colour-cell argument (a sequence is 1×n), or a `ConfigError`."""
    if len(task.arg_types) != 1:
        raise ConfigError("distribution", f"{task.key} takes {len(task.arg_types)} arguments; need one")
    leaves = parts(task.arg_types[0])
    if any(leaf.low != 0 or leaf.size != N_COLOURS for leaf in leaves):
        raise ConfigError("distribution", f"{task.key}'s input is not colour cells (0–9)")
    t = task.arg_types[0]
    h = getattr(t, "h", None)
    return (h, len(leaves) // h) if h else (1, len(leaves))


def names_for(task: Task) -> tuple[str, ...]:
    """The distributions that fit the task's input (sparse k needs at least k cells)."""
    h, w = cell_shape(task)
    return tuple(
        n for n in DISTRIBUTIONS if not n.startswith("sparse") or int(n.removeprefix("sparse")) <= h * w
    )


def check_name(name: str) -> Sampler:
    if name not in DISTRIBUTIONS:
        raise ConfigError("distribution", f"unknown {name!r} (known: {', '.join(DISTRIBUTIONS)})")
    return DISTRIBUTIONS[name]


def sample(task: Task, name: str, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`n` raw inputs of `task` from the named distribution (as `sample_inputs` returns them)."""
    draw = check_name(name)
    return [draw(n, cell_shape(task), rng)]


def sample_mixture(task: Task, mixture: str, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`n` raw inputs from a named mixture: component counts are multinomial, rows shuffled."""
    if mixture not in MIXTURES:
        raise ConfigError("mixture", f"unknown {mixture!r} (known: {', '.join(MIXTURES)})")
    fits = set(names_for(task))  # a 6-cell sequence has no sparse7: its weight goes to the rest
    weights = {d: p for d, p in MIXTURES[mixture].items() if d in fits}
    total = sum(weights.values())
    counts = rng.multinomial(n, [p / total for p in weights.values()])
    shape = cell_shape(task)
    rows = np.concatenate(
        [DISTRIBUTIONS[d](int(k), shape, rng) for d, k in zip(weights, counts, strict=True)]
    )
    return [rows[rng.permutation(n)]]


def support_size(name: str, shape: Shape) -> int | None:
    """How many distinct inputs the distribution can produce, where it is small enough to list."""
    cells = shape[0] * shape[1]
    if name == "constant":
        return N_COLOURS
    if name == "one_odd":
        return N_COLOURS * (N_COLOURS - 1) * cells
    if name.startswith("sparse"):
        k = int(name.removeprefix("sparse"))
        return math.comb(cells, k) * (N_COLOURS - 1) ** k
    if name == "pattern":  # parameter combinations; the distinct grids are fewer
        return PATTERN_KINDS * PATTERN_PERIODS * 2 * PATTERN_PERIODS * N_COLOURS * (N_COLOURS - 1)
    return None


def support(task: Task, name: str) -> list[np.ndarray] | None:
    """Every input the distribution can produce, if at most `SUPPORT_LIMIT`; else None."""
    check_name(name)
    shape = cell_shape(task)
    size = support_size(name, shape)
    if size is None or size > SUPPORT_LIMIT:
        return None
    cells = shape[0] * shape[1]
    if name == "constant":
        rows = np.repeat(np.arange(N_COLOURS)[:, None], cells, axis=1)
    elif name == "pattern":
        grid = np.meshgrid(
            np.arange(PATTERN_KINDS),
            np.arange(1, PATTERN_PERIODS + 1),
            np.arange(2 * PATTERN_PERIODS),
            np.arange(N_COLOURS),
            np.arange(1, N_COLOURS),
        )
        kind, period, phase, a, step = (g.ravel() for g in grid)
        rows = np.unique(
            _pattern(shape, kind, period, phase % (2 * period), a, (a + step) % N_COLOURS), axis=0
        )
    elif name == "one_odd":
        bg, odd, at = np.meshgrid(np.arange(N_COLOURS), np.arange(1, N_COLOURS), np.arange(cells))
        bg, odd, at = bg.ravel(), odd.ravel(), at.ravel()
        rows = np.repeat(bg[:, None], cells, axis=1)
        rows[np.arange(bg.size), at] = (bg + odd) % N_COLOURS
    else:
        k = int(name.removeprefix("sparse"))
        places = np.array(list(combinations(range(cells), k)), dtype=np.int64)  # [C, k]
        colours = np.stack(np.meshgrid(*[np.arange(1, N_COLOURS)] * k, indexing="ij"), -1).reshape(-1, k)
        rows = np.full((places.shape[0] * colours.shape[0], cells), BACKGROUND, dtype=np.int64)
        at = np.repeat(places, colours.shape[0], axis=0)
        rows[np.arange(rows.shape[0])[:, None], at] = np.tile(colours, (places.shape[0], 1))
    return [rows.astype(np.int64)]
