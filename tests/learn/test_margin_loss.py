"""The margin term of the training loss: each output's shortfall below the target margin."""

from __future__ import annotations

import pytest
import torch

from circ.circuit.config import ModelConfig
from circ.lang.errors import ConfigError
from circ.learn.run import Run
from circ.learn.train import _member_loss


def test_margin_adds_the_mean_shortfall() -> None:
    logits = torch.tensor([[[[2.0, 1.5, 0.0]], [[0.0, 5.0, 1.0]]]])  # [N=1, b=2, n_out=1, V=3]
    y = torch.tensor([[[0], [1]]])  # margins 0.5 and 4.0
    plain = _member_loss(logits, y)
    with_margin = _member_loss(logits, y, margin=2.0)
    assert float(with_margin - plain) == pytest.approx((1.5 + 0.0) / 2)
    assert float(_member_loss(logits, y, margin=0.4) - plain) == 0.0


def test_run_checks_margin_and_mixture() -> None:
    cfg = ModelConfig(vocab=11, n_positions=2, out_vocab=10, n_out=1, d_model=8, n_heads=2, d_mlp=8)
    with pytest.raises(ConfigError, match="margin"):
        Run(task="color_succ", model=cfg, margin=-1.0)
    with pytest.raises(ConfigError, match="mixture"):
        Run(task="color_succ", model=cfg, mixture="nope")
    assert Run(task="color_succ", model=cfg, mixture="arc", margin=1.0).to_dict()["mixture"] == "arc"
