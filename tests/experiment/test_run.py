"""The experiment end to end on seconds-long settings (real training, real circuits, real verify),
the held-out sets apart from the training data, and the report built from a result."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from circ.cli import app
from circ.experiment import testsets
from circ.experiment.config import TINY
from circ.experiment.depth import run_experiment
from circ.experiment.monolith import monolith_runs, training_inputs
from circ.experiment.points import points
from circ.experiment.report import compact_table, crossings, markdown, thresholds_note, write_report
from circ.experiment.results import ExperimentResult
from circ.lang.errors import ConfigError

SMALL = TINY.with_options(mod_depths=(1,), grid_depths=(2,), seeds=(0,))


@pytest.fixture(scope="module")
def result(stdlib_catalog, tmp_path_factory) -> ExperimentResult:
    return run_experiment(SMALL, stdlib_catalog, tmp_path_factory.mktemp("run"))


def test_composed_side_is_right_and_certified_everywhere(result: ExperimentResult) -> None:
    assert [(p.series, p.x) for p in result.points] == [("mod", 1), ("grid", 2), ("max", 2), ("max", 4)]
    for p in result.points:
        assert p.composed.verdict == "certified"
        for test, (right, rows) in p.composed.right.items():
            assert right == rows > 0, (p.series, p.x, test)


def test_monoliths_fit_their_budgets(result: ExperimentResult) -> None:
    for p in result.points:
        one, four = p.monoliths
        assert (one.factor, four.factor) == (1, 4)
        assert one.params <= p.composed.stored < one.params + 2 * one.config["d_model"] + 2
        assert 3 * one.params < four.params <= 4 * p.composed.stored
        for m in p.monoliths:
            assert all(0.0 <= a <= 1.0 for accs in m.accuracy.values() for a in accs)
            training = {"mod": SMALL.mod, "grid": SMALL.grid}.get(p.series, SMALL.fold)
            assert m.steps == (training.steps,)  # no target accuracy in these settings: every step runs


def test_result_round_trips_through_json(result: ExperimentResult) -> None:
    data = json.loads(json.dumps(result.to_json()))
    again = ExperimentResult.from_json(data)
    assert again.points == result.points  # every tuple restored
    assert json.loads(json.dumps(again.to_json())) == data


def test_report_files(result: ExperimentResult, tmp_path: Path) -> None:
    paths = write_report(result, tmp_path)
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = paths["table"].read_text()
    assert "| Mod[97] affine chain | depth | 1 |" in text and "certified" in text
    assert "whole domain 9,409/9,409" in text  # Mod[97] depth 1 is listed whole
    compact = compact_table(result).splitlines()
    assert "of all" in compact[2] and "certified" in compact[2]  # Mod depth 1: whole held-out set
    assert "sampled" in compact[3]  # grid depth 2: a sample of 10^25 inputs
    assert ExperimentResult.from_json(json.loads(paths["result"].read_text())).points == result.points


def test_held_out_excludes_training_inputs(stdlib_catalog) -> None:
    point = next(p for p in points(SMALL) if p.series == "mod")
    (run,) = monolith_runs(point.trains, _any_config(point), SMALL.mod, (0,))
    train = training_inputs(run)
    sets = {s.name: s for s in testsets.test_sets(point, SMALL, train)}
    held = sets["held-out"]
    assert not np.isin(testsets._keys(held.inputs), testsets._keys(train)).any()
    distinct = np.unique(testsets._keys(train)).size  # sampled with repeats
    assert held.rows + distinct == 97**2 == sets["whole domain"].rows
    assert not sets["whole domain"].monolith


def _any_config(point):
    from circ.circuit.config import ModelConfig

    return ModelConfig.for_interface(point.trains.build_task().interface, d_model=16, n_heads=1, d_mlp=16)


def test_crossings_find_the_first_depth_below_each_threshold(result: ExperimentResult) -> None:
    mod = next(p for p in result.points if p.series == "mod")

    def at(x: int, acc: float):
        ms = tuple(replace(m, accuracy={**m.accuracy, "held-out": (acc,)}) for m in mod.monoliths)
        return replace(mod, x=x, monoliths=ms)

    fake = replace(result, points=(at(1, 1.0), at(2, 0.95), at(4, 0.6), at(8, 0.2)))
    found = {(c.factor, c.threshold): c.x for c in crossings(fake)}
    assert found == {(1, 0.9): 4, (1, 0.5): 8, (4, 0.9): 4, (4, 0.5): 8}
    fake = replace(result, points=(at(1, 1.0), at(2, 0.95)))
    assert "never below 50.0% (measured depth 1, 2)" in thresholds_note(fake)
    assert "×1 first below 90.0% at depth 2" in thresholds_note(
        replace(fake, points=(at(1, 1.0), at(2, 0.4)))
    )
    assert "composed: every held-out input right at all 2 points" in markdown(fake)


def test_config_rejects_bad_settings() -> None:
    with pytest.raises(ConfigError, match="seeds"):
        TINY.with_options(seeds=())
    with pytest.raises(ConfigError, match="train_length"):
        TINY.with_options(train_length=17)


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["experiment", "depth", "--tiny", "--seeds", "a,b", "--out", str(tmp_path)])
    assert bad.exit_code == 1 and "--seeds must be comma-separated integers" in bad.output
    (tmp_path / "result.json").write_text("{}")
    bad = runner.invoke(app, ["experiment", "depth", "--from-result", str(tmp_path / "result.json")])
    assert bad.exit_code == 1 and "not a saved experiment result" in bad.output
    assert "Traceback" not in bad.output


def test_cli_renders_a_saved_result(result: ExperimentResult, tmp_path: Path) -> None:
    (tmp_path / "result.json").write_text(json.dumps(result.to_json()))
    ran = CliRunner().invoke(app, ["experiment", "depth", "--from-result", str(tmp_path / "result.json")])
    assert ran.exit_code == 0, ran.output
    assert "Grid[5, 5] symmetry chain" in ran.output and (tmp_path / "depth.png").exists()
