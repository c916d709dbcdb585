"""Certification: exhaustive on small domains, sampled on big ones, counterexamples kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from circ.circuit.config import ModelConfig
from circ.cli import app
from circ.lang.errors import ConfigError
from circ.learn.catalog import Catalog, CatalogError
from circ.learn.data import get_task, task_from_key
from circ.learn.model import build_model, weight_bytes
from circ.verify.certify import certify, certify_model, run_inputs

from support import TRAINED, register_model


def _register(catalog: Catalog, tmp_path: Path, name: str, task_key: str, model) -> None:
    register_model(catalog, name, task_key, model)


def test_task_keys_round_trip() -> None:
    task = get_task("mod_add", p=31)
    assert task_from_key(task.key).key == task.key == "mod_add[p=31]"
    with pytest.raises(ConfigError, match="task"):
        task_from_key("mod_add[p=x]")


def test_an_exact_circuit_is_certified_on_every_input(tmp_path: Path, color_provider) -> None:
    with Catalog(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "blobs") as catalog:
        _register(catalog, tmp_path, "t.add", TRAINED["t.add"], color_provider.models["t.add"].model)
        cert = certify(catalog, "t.add")
        assert (cert.accuracy, cert.method, cert.n_checked, cert.certified) == (1.0, "exhaustive", 100, True)
        assert cert.weights_sha256 == catalog.get("t.add").weights_sha256
        assert (cert.precision, cert.backend, cert.error_bound) == ("fp32", "torch", 0.0)
        assert cert.min_margin is not None and cert.min_margin > 0  # exact: every right logit wins
        assert catalog.latest_certificate("t.add") == cert


def test_injected_weight_noise_is_caught_with_counterexamples(color_provider) -> None:
    model = build_model(color_provider.models["t.add"].model.cfg, seed=0)
    model.load_state_dict(color_provider.models["t.add"].model.state_dict())
    with torch.no_grad():
        generator = torch.Generator().manual_seed(1)
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=generator) * 0.5 * p.std())
    result = certify_model(get_task("color_add"), model.eval(), weights_sha256="0" * 64)
    assert result.accuracy < 1.0 and not result.sampled and not result.certified
    assert result.min_margin < 0, "a wrong answer has a negative margin"
    assert result.error_bound == 1.0 - result.accuracy
    assert 0 < len(result.counterexamples) <= 20
    example = result.counterexamples[0]
    a, b = (int(v) for v in example["input"].strip("()").split(", "))
    assert int(example["expected"]) == (a + b) % 10 != int(example["got"])


def test_big_domains_are_sampled_and_say_so() -> None:
    task = get_task("grid_rot90", h=5, w=5)
    model = build_model(ModelConfig.for_interface(task.interface, d_model=16, n_heads=2, d_mlp=16), seed=0)
    result = certify_model(task, model.eval(), weights_sha256="0" * 64, sample=500)
    assert result.sampled and result.domain_size == 10**25 and not result.certified
    assert result.accuracy < 0.01 and len(result.counterexamples) == 20
    names = [s.name for s in result.samples]
    assert names[0] == "uniform" and {"constant", "one_odd", "sparse1", "two_colour"} <= set(names)
    whole = {s.name: s for s in result.samples if s.exhaustive}
    assert whole["constant"].n == 10, "a support of ten grids is checked whole, not sampled"
    drawn = [s for s in result.samples if not s.exhaustive]
    assert all(s.n == 500 // len(result.samples) for s in drawn)
    assert result.n_checked == sum(s.n for s in result.samples)
    assert sum(s.errors for s in result.samples) == round(result.n_checked * (1 - result.accuracy))


def test_a_sample_is_never_a_zero_error_bound() -> None:
    """0 errors in n draws bounds the error rate by about 3/n (95%), never by 0 — here for the task's
    own reference behind a circuit's interface, which is never wrong."""
    from circ.learn.data.domain import sample_inputs
    from circ.verify.reference import TaskModel

    task = get_task("grid_rot90", h=5, w=5)
    result = certify_model(
        task, TaskModel(task), weights_sha256="0" * 64, sample=1000, distributions={"uniform": sample_inputs}
    )
    assert result.accuracy == 1.0 and not result.certified
    assert result.error_bound == pytest.approx(3.0e-3, rel=0.01)


def test_samples_leave_out_the_training_inputs(monkeypatch) -> None:
    from circ.learn.data.domain import sample_inputs
    from circ.verify import certify as module

    task = get_task("grid_rot90", h=2, w=2)  # 10^4 inputs: small enough that draws would collide
    model = build_model(ModelConfig.for_interface(task.interface, d_model=16, n_heads=2, d_mlp=16), seed=0)
    training = sample_inputs(task, 5000, np.random.default_rng(0))
    seen = {tuple(row) for row in training[0].tolist()}
    drawn: list[tuple[int, ...]] = []
    run = module.run_inputs

    def recording(task, model, inputs, precision="fp32"):
        drawn.extend(tuple(row) for row in inputs[0].tolist())
        return run(task, model, inputs, precision)

    monkeypatch.setattr(module, "run_inputs", recording)
    monkeypatch.setattr(module, "EXHAUSTIVE_LIMIT", 100)  # sample this small domain instead of listing it
    uniform = {"uniform": sample_inputs}  # (a distribution with a small support is checked whole instead)
    result = certify_model(
        task, model.eval(), weights_sha256="0" * 64, sample=3000, training=training, distributions=uniform
    )
    assert drawn and not seen & set(drawn)
    assert result.n_checked == len(drawn) < 3000


def test_cli_certify(tmp_path: Path, color_provider) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    with Catalog(url, tmp_path / "blobs") as catalog:
        _register(catalog, tmp_path, "t.max", TRAINED["t.max"], color_provider.models["t.max"].model)
    result = CliRunner().invoke(app, ["catalog", "certify", "t.max", "--db", url])
    assert result.exit_code == 0, result.output
    assert "t.max: 100% exhaustive" in result.output
    assert "100 of 100 inputs run" in result.output and "holds for weights" in result.output
    missing = CliRunner().invoke(app, ["catalog", "certify", "nope", "--db", url])
    assert missing.exit_code == 1 and missing.output.startswith("error:")


def test_a_circuit_whose_task_is_unknown_cannot_be_certified(tmp_path: Path, color_provider) -> None:
    with Catalog(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "blobs") as catalog:
        model = color_provider.models["t.add"].model
        data = weight_bytes(model.state_dict(), model.cfg, {"task": "no_such_task"})
        catalog.register_circuit("odd", "(Color, Color) -> Color", "", "no_such_task", None, data)
        with pytest.raises(CatalogError, match="names task 'no_such_task', which cannot be certified"):
            certify(catalog, "odd")


def test_a_domain_too_big_to_list_is_proved_by_bounds(monkeypatch, reverse3) -> None:
    """Where listing is too costly, a bounds proof that closes certifies the whole domain."""
    from circ.verify import certify as module

    task, model = reverse3
    monkeypatch.setattr(module, "EXHAUSTIVE_LIMIT", 100)  # treat its 1,000 inputs as too many to list
    result = certify_model(task, model, weights_sha256="0" * 64)
    assert (result.method, result.certified, result.n_checked) == ("bounds", True, 1000)
    from circ.learn.data.domain import enumerate_inputs

    exact = run_inputs(task, model, enumerate_inputs(task))
    assert exact.wrong == 0 and 0 < result.min_margin <= exact.min_margin  # a sound lower bound
