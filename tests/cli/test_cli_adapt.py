"""`circ adapt` and the TransformerLens commands as a user runs them: a certified, registered child
with its adapter kept on the parent; an export TransformerLens loads and an `add` that certifies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load
from typer.testing import CliRunner

from circ.cli import app
from circ.learn.adapt.artefact import load_adapter
from circ.learn.catalog import Catalog
from circ.settings import Settings, packaged_catalog_dir

runner = CliRunner()
pytestmark = pytest.mark.filterwarnings("ignore:HookedTransformer is deprecated:DeprecationWarning")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "CIRC_HOME": str(tmp_path / "home"),
        "CIRC_DB": f"sqlite:///{tmp_path / 'user.db'}",
        "CIRC_STDLIB_CATALOG": str(packaged_catalog_dir()),
        "COLUMNS": "250",
    }


def _catalog(env: dict[str, str]) -> Catalog:
    return Settings.from_env(environ=env).open_catalog()


def test_adapt_registers_a_certified_child_and_keeps_the_adapter_on_the_parent(env: dict[str, str]) -> None:
    args = ["adapt", "color.succ", "color_pred", "--rank", "2", "--seeds", "2", "--eval-every", "10"]
    args += ["--targets", "q, k, v, o, fc_in, fc_out"]  # the projections alone do it here
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "registered color.succ.lora.color_pred@1" in result.output and "certified" in result.output
    with _catalog(env) as catalog:
        child = catalog.get("color.succ.lora.color_pred")
        assert child.task == "color_pred" and child.contract == "ensures result == (c + 9) % 10"
        cert = catalog.latest_certificate(child.ref)
        assert cert is not None and cert.certified and cert.n_checked == 10
        (extraction,) = catalog.extractions("color.succ")
        assert extraction.method == "lora"
        summary = extraction.summary
        assert summary["child"] == child.ref and summary["rank"] == 2 and summary["seeds"] == 2
        assert summary["certificate"]["certified"] and 0 < summary["steps"] <= 3000
        adapter, config, provenance = load_adapter(catalog.load_artefact(extraction))
        assert config["r"] == 2 and provenance["parent"] == "color.succ@1"
        assert all(".lora_" in k for k in adapter)
        assert sorted(config["target_modules"]) == ["fc_in", "fc_out", "k", "o", "q", "v"]
        (run,) = catalog.training_runs(child.ref)
        assert run.status == "certified" and run.config["method"] == "lora"


def test_adapt_errors_are_one_line(env: dict[str, str]) -> None:
    for args, field in (
        (["adapt", "color.succ", "mod_neg"], "model.vocab"),
        (["adapt", "color.succ", "color_pred", "--rank", "0"], "rank"),
        (["adapt", "color.succ", "color_pred", "--targets", "q,ln1"], "targets"),
        (["adapt", "nope", "color_pred"], "unknown circuit"),
        (["adapt", "color.succ", "color_pred", "--steps", "2", "--eval-every", "1"], "validation accuracy"),
    ):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and field in lines[0], result.stderr
    with _catalog(env) as catalog:  # a failed adaptation registers nothing
        assert not [c for c in catalog.circuits() if ".lora." in c.name]


def test_export_to_transformer_lens_and_add_back(env: dict[str, str], tmp_path: Path) -> None:
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    out = tmp_path / "tl"
    result = runner.invoke(
        app, ["catalog", "export", "color.add", "--format", "transformer-lens", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    cfg = HookedTransformerConfig(**json.loads((out / "config.json").read_text()))
    HookedTransformer(cfg).load_state_dict(load((out / "model.safetensors").read_bytes()), strict=True)

    result = runner.invoke(
        app, ["catalog", "add", "--from", "transformer-lens", str(out), "--name", "tl.add"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "added tl.add@1" in result.output and "100% exhaustive on 100 inputs" in result.output

    for args, message in (
        (["catalog", "add", "--from", "onnx", str(out)], "from"),
        (["catalog", "add", str(out)], "name: required"),  # a `circ train` run needs its --name
        (["catalog", "add", "--from", "transformer-lens", str(tmp_path / "none")], "config.json"),
        (["catalog", "export", str(out), "--format", "keras"], "format"),
        (["catalog", "export", str(out), "--format", "transformer-lens"], "CIRCUIT DIR"),
        (["catalog", "export", "a", "b"], "one DIR"),
    ):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert message in result.stderr, result.stderr
