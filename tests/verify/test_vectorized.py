"""Contracts on whole columns agree with the per-row evaluator, row by row — short-circuits,
undefined divisions and indices, and `forall` over per-row ranges included."""

from __future__ import annotations

import numpy as np
import pytest

from circ.lang.check import check
from circ.lang.evaluate import satisfied as row_satisfied
from circ.lang.layout import structure
from circ.lang.modules import load_text
from circ.lang.types import GridT
from circ.verify import vectorized

CONTRACTS = [
    "ensures result == (a + b) % 7",
    "requires b != 0 ensures result == a / b",  # undefined where b == 0, but never reached there
    "ensures result == a / b",  # undefined where b == 0: nothing promised there
    "ensures b == 0 or a % b == result",  # `or` short-circuits the undefined right side
    "ensures (if a > b then a - b else b - a) == result",
    "ensures forall i in 0..a: xs[i] >= 0",  # a per-row range, indices within it
    "ensures forall i in 0..a + 2: xs[i] == xs[i]",  # runs past the end where a > 1: undefined
    "ensures xs[b] == result or b > 2",
    "ensures not (a == b) or result == 0",
    "requires a < 5 requires b > 1 ensures result * b >= a - 10",
]


@pytest.mark.parametrize("contract", CONTRACTS)
def test_columns_agree_with_rows(contract: str) -> None:
    source = f'circuit c(a: Mod[7], b: Mod[7], xs: Seq[Mod[7], 3]) -> Mod[7] {contract} learned "t";'
    decl = check(load_text(source, "t.circ")).function("c").decl
    rng = np.random.default_rng(0)
    rows = 3000
    a, b, result = (rng.integers(0, 7, rows) for _ in range(3))
    xs = rng.integers(0, 7, (rows, 3))
    columns = vectorized.satisfied(decl, [a, b, [xs[:, 0], xs[:, 1], xs[:, 2]]], result, rows)
    expected = [
        row_satisfied(decl, [int(a[r]), int(b[r]), xs[r].tolist()], int(result[r])) for r in range(rows)
    ]
    # -1: nothing promised (a requires fails), -2: an ensures has no value there; per row, both are None
    assert [max(c, -1) for c in columns.tolist()] == [{True: 1, False: 0, None: -1}[e] for e in expected]
    assert len(set(columns.tolist())) > 1 or contract.startswith("ensures forall i in 0..a:")


def test_grid_columns_index_row_major() -> None:
    contract = "ensures result == g[1, 2] and g[0] == [g[0, 0], g[0, 1], g[0, 2]]"
    source = f'circuit c(g: Grid[2, 3]) -> Color {contract} learned "t";'
    decl = check(load_text(source, "t.circ")).function("c").decl
    cols = [np.arange(4) + k for k in range(6)]
    state = vectorized.satisfied(decl, [structure(GridT(2, 3), cols)], cols[5], 4)
    assert state.tolist() == [1, 1, 1, 1]
