"""The stdlib build, and the circuits that ship: a fresh install runs programs on them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from circ.cli import app
from circ.lang.evaluate import satisfied
from circ.lang.layout import unflatten
from circ.learn.data import get_task
from circ.learn.data.domain import sample_inputs
from circ.settings import Settings
from circ.stdlib_build import RECIPES, build, declarations, declared_circuits


def test_every_recipe_names_a_declared_circuit() -> None:
    declared = declared_circuits()
    assert set(RECIPES) <= set(declared)
    assert declared["color.add"] == ("(Color, Color) -> Color", "ensures result == (a + b) % 10")


def test_a_partial_build_trains_certifies_and_keeps_what_was_shipped(tmp_path: Path) -> None:
    built, missing = build(tmp_path, only=["color.succ"])
    assert [(b.name, b.certificate.certified) for b in built] == [("color.succ", True)]
    assert set(missing) == set(declared_circuits()) - set(RECIPES)
    build(tmp_path, only=["color.max"])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert sorted(c["name"] for c in manifest["circuits"]) == ["color.max", "color.succ"]
    headlines = {}
    for circuit in manifest["circuits"]:  # each keeps its mechanism summary through the second build
        [mechanism] = circuit["extractions"]
        assert mechanism["method"] == "positions"
        headlines[circuit["name"]] = mechanism["summary"]["headline"]
    assert headlines["color.succ"].startswith("each output reads one input cell")  # succ(c) reads c
    assert headlines["color.max"].startswith("outputs depend on several inputs")  # max(a, b) reads both


def test_shipped_circuits_are_certified_and_run_the_combinators_example(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CIRC_HOME", str(tmp_path))  # an empty user catalog: only the stdlib answers
    monkeypatch.delenv("CIRC_DB", raising=False)
    with Settings.from_env().open_catalog() as catalog:
        shipped = {r.name: r for r in catalog.circuits()}
        assert set(shipped) == set(RECIPES) and {r.source for r in shipped.values()} == {"stdlib"}
        certificates = {name: catalog.latest_certificate(name) for name in shipped}
    # every circuit is certified on its whole domain: listed, or (Grid[5, 5]: 10^25 inputs) proved by
    # bound propagation; each certificate holds for the weights that ship, in fp32 on torch
    assert all(c.certified and c.accuracy == 1.0 for c in certificates.values())
    assert {n for n, c in certificates.items() if c.method == "bounds"} == {
        n for n in shipped if n.startswith("grid5.")
    }
    assert all(
        c.weights_sha256 == shipped[n].weights_sha256 and c.min_margin > 0 for n, c in certificates.items()
    )
    examples = Path(__file__).resolve().parent.parent / "examples"
    args = [
        "-i",
        "xs=[1, 2, 3, 4, 5, 9]",
        "-i",
        "ys=[0, 0, 0, 0, 0, 5]",
        "-i",
        "g=[[1, 0, 1], [2, 1, 3], [1, 1, 1]]",
    ]
    result = CliRunner().invoke(app, ["run", str(examples / "combinators.circ"), *args, "--json"])
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)["output"]
    # brighten adds 2 to each colour, zip_with adds ys, fold takes the max, map recolours 1 → 2
    assert output == [[3, 4, 5, 6, 7, 6], 9, [[2, 0, 2], [2, 2, 3], [2, 2, 2]]]


def test_every_recipe_task_meets_its_declared_contract() -> None:
    """A recipe's task is the truth a circuit is trained and certified against; it must agree with
    the `ensures` users (and Z3) rely on, or a 100% certificate would certify the wrong thing."""
    rng = np.random.default_rng(0)
    decls = declarations()
    for name, recipe in RECIPES.items():
        symbol, _ = decls[name]
        task = get_task(recipe.task, **dict(recipe.params))
        inputs = sample_inputs(task, 200, rng)
        outputs = task(*inputs)
        arg_types = [t for _, t in symbol.signature.params]
        for row in range(len(outputs)):
            args = [unflatten(t, x[row].tolist()) for t, x in zip(arg_types, inputs, strict=True)]
            result = unflatten(symbol.signature.result, np.atleast_1d(outputs[row]).tolist())
            verdict = satisfied(symbol.decl, args, result)
            assert verdict is not False, f"{name}: {task.key} gives {result} for {args}, against its contract"
            assert verdict is True or not any(c.kind == "ensures" for c in symbol.decl.contracts)
