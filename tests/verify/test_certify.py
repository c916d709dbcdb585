"""Certification: exhaustive on small domains, sampled on big ones, counterexamples kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from circ.circuit.config import ModelConfig
from circ.cli import app
from circ.lang.errors import ConfigError
from circ.learn.catalog import Catalog, CatalogError
from circ.learn.data import get_task, task_from_key
from circ.learn.model import build_model, save_weights
from circ.verify.certify import certify, certify_model

from support import TRAINED


def _register(catalog: Catalog, tmp_path: Path, name: str, task_key: str, model) -> None:
    path = tmp_path / f"{name}.safetensors"
    save_weights(path, model.state_dict(), model.cfg)
    catalog.register_circuit(name, task_from_key(task_key).signature, "", task_key, None, path.read_bytes())


def test_task_keys_round_trip() -> None:
    task = get_task("mod_add", p=31)
    assert task_from_key(task.key).key == task.key == "mod_add[p=31]"
    with pytest.raises(ConfigError, match="task"):
        task_from_key("mod_add[p=x]")


def test_an_exact_circuit_is_certified_on_every_input(tmp_path: Path, color_provider) -> None:
    with Catalog(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "blobs") as catalog:
        _register(catalog, tmp_path, "t.add", TRAINED["t.add"], color_provider.models["t.add"].model)
        cert = certify(catalog, "t.add")
        assert (cert.accuracy, cert.sampled, cert.n_checked, cert.certified) == (1.0, False, 100, True)
        assert catalog.latest_certificate("t.add") == cert


def test_injected_weight_noise_is_caught_with_counterexamples(color_provider) -> None:
    model = build_model(color_provider.models["t.add"].model.cfg, seed=0)
    model.load_state_dict(color_provider.models["t.add"].model.state_dict())
    with torch.no_grad():
        generator = torch.Generator().manual_seed(1)
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=generator) * 0.5 * p.std())
    result = certify_model(get_task("color_add"), model.eval())
    assert result.accuracy < 1.0 and not result.sampled
    assert 0 < len(result.counterexamples) <= 20
    example = result.counterexamples[0]
    a, b = (int(v) for v in example["input"].strip("()").split(", "))
    assert int(example["expected"]) == (a + b) % 10 != int(example["got"])


def test_big_domains_are_sampled_and_say_so() -> None:
    task = get_task("grid_rot90", h=5, w=5)
    model = build_model(ModelConfig.for_interface(task.interface, d_model=16, n_heads=2, d_mlp=16), seed=0)
    result = certify_model(task, model.eval(), sample=500)
    assert result.sampled and result.n_checked == 500 and result.domain_size == 10**25
    assert result.accuracy < 0.01 and len(result.counterexamples) == 20


def test_cli_certify(tmp_path: Path, color_provider) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    with Catalog(url, tmp_path / "blobs") as catalog:
        _register(catalog, tmp_path, "t.max", TRAINED["t.max"], color_provider.models["t.max"].model)
    result = CliRunner().invoke(app, ["catalog", "certify", "t.max", "--db", url])
    assert result.exit_code == 0, result.output
    assert "t.max: 100.00% full on 100 inputs (every input)" in result.output
    missing = CliRunner().invoke(app, ["catalog", "certify", "nope", "--db", url])
    assert missing.exit_code == 1 and missing.output.startswith("error:")


def test_a_circuit_whose_task_is_unknown_cannot_be_certified(tmp_path: Path, color_provider) -> None:
    with Catalog(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "blobs") as catalog:
        model = color_provider.models["t.add"].model
        path = tmp_path / "w.safetensors"
        save_weights(path, model.state_dict(), model.cfg)
        catalog.register_circuit(
            "odd", "(Color, Color) -> Color", "", "no_such_task", None, path.read_bytes()
        )
        with pytest.raises(CatalogError, match="names task 'no_such_task', which cannot be certified"):
            certify(catalog, "odd")
