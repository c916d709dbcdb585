"""A task meets its declared contract on its whole domain, or the verdict says how much was checked."""

from __future__ import annotations

import numpy as np
import pytest

from circ.lang.check import check
from circ.lang.modules import load_text
from circ.learn.data import families, get_task
from circ.verify.conformance import conformance


def decl(source: str):
    return check(load_text(source, "t.circ")).function("c").decl


def test_one_bad_input_among_a_million_is_found() -> None:
    """The finding of issue 12: a clause false on exactly [3, 1, 4, 1, 5, 9] of seq6.reverse."""
    contract = (
        "ensures forall i in 0..6: result[i] == xs[5 - i] "
        "ensures not (xs[0] == 3 and xs[1] == 1 and xs[2] == 4 and xs[3] == 1 and xs[4] == 5 and xs[5] == 9)"
    )
    found = conformance(
        decl(f'circuit c(xs: Seq[Color, 6]) -> Seq[Color, 6] {contract} learned "t";'),
        get_task("seq_reverse", n=6),
    )
    assert found.status == "broken" and "c([3, 1, 4, 1, 5, 9]) = [9, 5, 1, 4, 1, 3]" in found.detail
    assert found.conforms is False


def test_a_true_contract_holds_on_every_input() -> None:
    found = conformance(
        decl(
            "circuit c(xs: Seq[Color, 6]) -> Seq[Color, 6]"
            ' ensures forall i in 0..6: result[i] == xs[5 - i] learned "t";'
        ),
        get_task("seq_reverse", n=6),
    )
    assert (found.status, found.detail, found.conforms) == ("all", "all 1,000,000 inputs", True)


@pytest.mark.parametrize(
    ("task", "params", "right", "wrong"),
    [
        ("grid_rot90", {}, "result[r, c] == g[4 - c, r]", "result[r, c] == g[c, 4 - r]"),
        ("grid_dmirror", {}, "result[r, c] == g[c, r]", "result[r, c] == g[r, c]"),
        (
            "grid_recolor",
            {"a": 1, "b": 2},
            "result[r, c] == (if g[r, c] == 1 then 2 else g[r, c])",
            "result[r, c] == (if g[r, c] == 2 then 1 else g[r, c])",
        ),
    ],
)
def test_grid_cell_maps_are_proved_for_all_inputs(task: str, params: dict, right: str, wrong: str) -> None:
    t = get_task(task, h=5, w=5, **params)
    body = (
        'circuit c(g: Grid[5, 5]) -> Grid[5, 5] ensures forall r in 0..5: forall c in 0..5: {} learned "t";'
    )
    proved = conformance(decl(body.format(right)), t)
    assert proved.status == "proved" and "10^25" in proved.detail
    broken = conformance(decl(body.format(wrong)), t)
    assert broken.status == "broken" and broken.detail.startswith(f"{t.key} gives c([[")


def test_grid_cell_maps_describe_the_reference() -> None:
    """What the proofs rely on: output cell i is colour[input cell source[i]], for every family that
    declares a cell map (checked on random and low-entropy grids)."""
    rng = np.random.default_rng(0)
    declared = [f for f in families() if f.group == "grid" and f.build(h=4, w=5).cells is not None]
    assert {f.name for f in declared} >= {"grid_rot90", "grid_recolor", "grid_shift_left", "grid_transpose"}
    for family in declared:
        task = family.build(h=4, w=5)
        grids = np.concatenate(
            [rng.integers(0, 10, (500, 20)), np.repeat(np.arange(10)[:, None], 20, axis=1)]
        )
        cells = task.cells
        assert (np.array(cells.colour)[grids[:, list(cells.source)]] == task(grids)).all(), family.name
