"""Grid tasks over `Grid[h, w]`, after arc-dsl's primitives (same names, same orientation).

Grids arrive row-major as `[N, h·w]`; each function reshapes to `[N, h, w]` and flattens the result.
Rotations and diagonal mirrors of a non-square grid change its shape (`Grid[h, w] -> Grid[w, h]`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from circ.lang.types import GridT
from circ.learn.data.task import CellMap, Family, Task, check_int

DEFAULT_H = DEFAULT_W = 3
Op = Callable[[np.ndarray], np.ndarray]  # [N, h, w] -> [N, h', w']


def _family(
    name: str,
    doc: str,
    op: Op,
    transposes: bool = False,
    extra: tuple[tuple[str, int], ...] = (),
    cells: str | None = None,
) -> Family:
    """`extra` are colour parameters (0–9) that `op` takes as keywords after the grid. `cells` says
    what `op` is by construction: "permutation" (only indexing: it moves cells, so applying it to the
    grid of cell numbers gives the permutation) or "recolour" (cell by cell: applying it to each
    constant grid gives the colour map)."""

    def build(h: int = DEFAULT_H, w: int = DEFAULT_W, **colours: int) -> Task:
        h, w = check_int("h", h, 1, 30), check_int("w", w, 1, 30)  # ARC grids are at most 30×30
        kw = {k: check_int(k, colours.get(k, d), 0, 9) for k, d in extra}
        out = GridT(w, h) if transposes else GridT(h, w)
        params = (("h", h), ("w", w), *kw.items())

        def fn(g: np.ndarray) -> np.ndarray:
            return op(g.reshape(-1, h, w), **kw).reshape(g.shape[0], -1)

        return Task(name, params, (GridT(h, w),), out, fn, doc, cells=_cell_map(cells, fn, h * w))

    return Family(name, "grid", build, (("h", DEFAULT_H), ("w", DEFAULT_W), *extra), doc)


def _cell_map(kind: str | None, fn: Callable[[np.ndarray], np.ndarray], n: int) -> CellMap | None:
    if kind is None:
        return None
    if kind == "permutation":
        source = fn(np.arange(n, dtype=np.int64)[None, :])[0]
        return CellMap(tuple(int(i) for i in source), tuple(range(10)))
    constant = fn(np.repeat(np.arange(10, dtype=np.int64)[:, None], n, axis=1))
    return CellMap(tuple(range(n)), tuple(int(c) for c in constant[:, 0]))


def _flood(g: np.ndarray, c: int) -> np.ndarray:
    """Paint-bucket fill from the top-left cell: its 4-connected same-colour region becomes `c`."""
    same = g == g[:, :1, :1]
    region = np.zeros_like(same)
    region[:, 0, 0] = True
    while True:  # grows every grid at once; at most h·w rounds
        grown = region.copy()
        grown[:, 1:, :] |= region[:, :-1, :]
        grown[:, :-1, :] |= region[:, 1:, :]
        grown[:, :, 1:] |= region[:, :, :-1]
        grown[:, :, :-1] |= region[:, :, 1:]
        grown &= same
        if np.array_equal(grown, region):
            return np.where(region, c, g)
        region = grown


P = "permutation"
FAMILIES = (
    _family("grid_rot90", "rotate 90° clockwise", lambda g: np.rot90(g, -1, axes=(1, 2)), True, cells=P),
    _family("grid_rot180", "rotate 180°", lambda g: g[:, ::-1, ::-1], cells=P),
    _family("grid_rot270", "rotate 90° anticlockwise", lambda g: np.rot90(g, 1, axes=(1, 2)), True, cells=P),
    _family("grid_hmirror", "mirror top ↔ bottom", lambda g: g[:, ::-1, :], cells=P),
    _family("grid_vmirror", "mirror left ↔ right", lambda g: g[:, :, ::-1], cells=P),
    _family("grid_dmirror", "mirror on the main diagonal", lambda g: g.transpose(0, 2, 1), True, cells=P),
    _family(
        "grid_cmirror",
        "mirror on the anti-diagonal",
        lambda g: g[:, ::-1, ::-1].transpose(0, 2, 1),
        True,
        cells=P,
    ),
    _family("grid_transpose", "rows become columns", lambda g: g.transpose(0, 2, 1), True, cells=P),
    _family(
        "grid_recolor",
        "every cell of colour a becomes b",
        lambda g, a, b: np.where(g == a, b, g),
        extra=(("a", 1), ("b", 2)),
        cells="recolour",
    ),
    _family("grid_shift_down", "shift down one row, wrapping", lambda g: np.roll(g, 1, axis=1), cells=P),
    _family("grid_shift_up", "shift up one row, wrapping", lambda g: np.roll(g, -1, axis=1), cells=P),
    _family("grid_shift_right", "shift right one column, wrapping", lambda g: np.roll(g, 1, axis=2), cells=P),
    _family("grid_shift_left", "shift left one column, wrapping", lambda g: np.roll(g, -1, axis=2), cells=P),
    _family("grid_flood", "flood-fill the top-left cell's region with colour c", _flood, extra=(("c", 0),)),
)
