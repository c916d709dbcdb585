"""Transcoders reconstruct a tiny circuit's MLP, a ReLU one is an MLP the runtime runs, and the
cross-layer and top-k variants say honestly when they are not."""

from __future__ import annotations

import pytest
import torch

from circ.lang.errors import ConfigError
from circ.learn.extract.domain import check
from circ.learn.extract.replacement import (
    as_circuit,
    circuit_model,
    replaced,
    replacement_check,
    runtime_form,
)
from circ.learn.extract.train_transcoder import TrainOptions, measure, train_transcoders
from circ.learn.extract.transcoder import TranscoderConfig, Transcoders


def _cfg(model, d_sae: int, **kw) -> TranscoderConfig:
    c = model.cfg
    return TranscoderConfig(c.n_layers, c.d_model, d_sae, c.d_model, layernorm=c.layernorm, **kw)


@pytest.fixture(scope="module")
def color_add_tc(load):
    model, domain = load("color.add")
    tc = train_transcoders(model, domain, _cfg(model, 128), TrainOptions(steps=600))
    return model, domain, tc


def test_a_transcoder_reaches_its_stated_reconstruction(color_add_tc) -> None:
    model, domain, tc = color_add_tc
    (report,) = measure(model, tc, domain)
    # stated: 600 steps of a 128-feature ReLU transcoder explain all but 1% of color.add's MLP output
    assert report.fvu < 0.01
    assert 0 < report.l0 < 128
    assert report.dead < 128 // 2


def test_a_relu_transcoder_is_an_mlp_of_width_d_sae(color_add_tc) -> None:
    model, domain, tc = color_add_tc
    assert runtime_form(tc, max_positive=128) is None
    cfg, state = as_circuit(model, tc)
    assert cfg.d_mlp == 128 and cfg.n_positions == model.cfg.n_positions
    plain = circuit_model(cfg, state)
    with torch.no_grad(), replaced(model, tc):
        hooked = model(domain.tokens)
    assert torch.allclose(plain(domain.tokens), hooked, atol=1e-4)
    assert check(plain, domain).accuracy == replacement_check(model, tc, domain).accuracy


def test_transcoders_round_trip_through_bytes(color_add_tc) -> None:
    _, _, tc = color_add_tc
    back, meta = Transcoders.from_bytes(tc.to_bytes({"parent": "color.add@1"}))
    assert meta["parent"] == "color.add@1" and back.cfg == tc.cfg
    for a, b in zip(tc.state_dict().values(), back.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_topk_is_a_circuit_only_when_it_equals_relu(load) -> None:
    model, domain = load("color.succ")
    tc = train_transcoders(model, domain, _cfg(model, 32, architecture="topk", k=4), TrainOptions(steps=200))
    (report,) = measure(model, tc, domain)
    assert report.max_active <= 4
    reason = runtime_form(tc, report.max_positive)
    assert (reason is None) == (report.max_positive <= 4)
    if reason is None:  # then the plain ReLU MLP gives the top-k transcoder's outputs exactly
        with torch.no_grad(), replaced(model, tc):
            hooked = model(domain.tokens)
        assert torch.allclose(circuit_model(*as_circuit(model, tc))(domain.tokens), hooked, atol=1e-4)
    else:
        assert "top-4" in reason


def test_cross_layer_transcoder_on_two_layers(two_layer) -> None:
    model, domain = two_layer
    tc = train_transcoders(model, domain, _cfg(model, 64, cross_layer=True), TrainOptions(steps=400))
    reports = measure(model, tc, domain)
    assert [r.layer for r in reports] == [0, 1]
    assert all(r.fvu < 0.2 for r in reports)
    assert tc.W_dec[0].shape == (64, 2, 32) and tc.W_dec[1].shape == (64, 1, 32)
    assert "cross-layer" in runtime_form(tc, 0)
    assert replacement_check(model, tc, domain).n_checked == 100


def test_per_layer_transcoders_on_two_layers_become_a_circuit(two_layer) -> None:
    model, domain = two_layer
    tc = train_transcoders(model, domain, _cfg(model, 64), TrainOptions(steps=300))
    plain = circuit_model(*as_circuit(model, tc))
    with torch.no_grad(), replaced(model, tc):
        hooked = model(domain.tokens)
    assert torch.allclose(plain(domain.tokens), hooked, atol=1e-4)


def test_bad_configs_name_their_field() -> None:
    with pytest.raises(ConfigError, match=r"^k:"):
        TranscoderConfig(1, 8, 16, 8, architecture="topk")
    with pytest.raises(ConfigError, match=r"^architecture:"):
        TranscoderConfig(1, 8, 16, 8, architecture="jumprelu")
    with pytest.raises(ConfigError, match=r"^d_sae:"):
        TranscoderConfig(1, 8, 0, 8)
