"""The generated `.circ` programs compute their monolith task's function on the real circuits, and
`circ verify` proves their contracts (the grid contract's cell formula is derived, so a wrong
derivation would be refuted here)."""

from __future__ import annotations

import numpy as np
import pytest

from circ import api
from circ.experiment.composed import outputs
from circ.experiment.points import Point
from circ.experiment.programs import affine_chain, fold_program, grid_chain
from circ.learn.data.domain import sample_inputs


@pytest.mark.parametrize("program", [affine_chain(1), affine_chain(5), grid_chain(3), grid_chain(8)])
def test_program_matches_its_task(program, stdlib_catalog, tmp_path) -> None:
    path = tmp_path / f"{program.name}.circ"
    path.write_text(program.source)
    task = program.build_task()
    inputs = sample_inputs(task, 300, np.random.default_rng(0))
    got = outputs(api.compile(path), inputs, stdlib_catalog, "cpu")
    assert np.array_equal(got, task(*inputs).reshape(got.shape))


@pytest.mark.parametrize("program", [affine_chain(4), grid_chain(7), fold_program("sum", 5, 20)])
def test_contract_is_certified(program, stdlib_catalog, tmp_path) -> None:
    path = tmp_path / f"{program.name}.circ"
    path.write_text(program.source)
    assert api.verify(path, stdlib_catalog, examples=5, seed=0).verdict == "certified"


def test_a_wrong_contract_is_not_certified(stdlib_catalog, tmp_path) -> None:
    program = grid_chain(2)
    path = tmp_path / "wrong.circ"
    wrong = program.source.replace("== g[4 - c, 4 - r]", "== g[c, r]")
    assert wrong != program.source
    path.write_text(wrong)
    assert api.verify(path, stdlib_catalog, examples=5, seed=0).verdict != "certified"


def test_length_point_reads_the_live_tail(stdlib_catalog, tmp_path) -> None:
    program = fold_program("max", 4, 16)
    point = Point("max", "length", 4, program, fold_program("max", 2, 16), "fold")
    (padded,) = program.build_task().sampler(200, np.random.default_rng(2))
    path = tmp_path / "m.circ"
    path.write_text(program.source)
    got = outputs(api.compile(path), point.program_inputs([padded]), stdlib_catalog, "cpu")
    assert np.array_equal(got[:, 0], padded.max(axis=1))
