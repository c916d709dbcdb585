"""The per-layer kernels against the torch model, on random circuits of many shapes: the same
argmax tokens, logits within 1e-4 of the largest logit (fp32), the same confidence."""

from __future__ import annotations

import pytest
import torch

from circ.circuit.config import ModelConfig
from circ.compiler.triton.layout import Layout
from circ.compiler.triton.pack import pack
from circ.learn.model import build_model
from circ.runtime.backends import interpreting
from circ.runtime.triton_backend import run_layers

DEVICE = "cpu" if interpreting() else "cuda"

CONFIGS = {  # name → (vocab, n_positions, out_vocab, n_out, d_model, n_heads, d_mlp, n_layers, LN, causal)
    "colour: causal, 1 layer": (11, 3, 10, 1, 32, 2, 64, 1, False, True),
    "encoder, LayerNorm, 2 layers, odd sizes": (7, 9, 5, 4, 24, 3, 40, 2, True, False),
    "mod 97, 4 heads of 4": (98, 3, 97, 1, 16, 4, 16, 1, True, True),
    "sequence, d_model 8 (padded)": (11, 12, 10, 6, 8, 1, 8, 2, False, False),
    "5x5 grid: 50 positions": (11, 50, 10, 25, 16, 2, 32, 1, False, True),
}


def config(name: str) -> ModelConfig:
    return ModelConfig(*CONFIGS[name])


def reference(model: torch.nn.Module, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        logits = model(tokens)
    return logits, torch.softmax(logits, -1).max(-1).values.prod(-1)


@pytest.mark.parametrize("name", CONFIGS)
def test_layers_match_the_torch_model(name: str) -> None:
    cfg = config(name)
    model = build_model(cfg, seed=len(name))
    layout = Layout(cfg).at(48)  # not at 0: offsets must be absolute
    weights = torch.cat([torch.zeros(48), pack(model, layout)]).to(DEVICE)
    rows = 40 if cfg.n_positions < 20 else 9  # a partial last tile
    tokens = torch.randint(0, cfg.vocab, (rows, cfg.n_positions), generator=torch.Generator().manual_seed(1))
    out, sure, logits = run_layers(
        layout, weights, tokens.to(DEVICE), native=not interpreting(), store_logits=True
    )
    want_logits, want_sure = reference(model, tokens)
    scale = want_logits.abs().max()
    assert (logits.cpu() - want_logits).abs().max() <= 1e-4 * scale
    assert torch.equal(out.cpu().long(), want_logits.argmax(-1))
    assert torch.allclose(sure.cpu(), want_sure, rtol=1e-4, atol=0)


@pytest.mark.parametrize("name", ["colour: causal, 1 layer", "encoder, LayerNorm, 2 layers, odd sizes"])
def test_bf16_stays_close_to_fp32(name: str) -> None:
    cfg = config(name)
    model = build_model(cfg, seed=7)
    layout = Layout(cfg)
    tokens = torch.randint(0, cfg.vocab, (64, cfg.n_positions), generator=torch.Generator().manual_seed(2))
    weights = pack(model, layout, torch.bfloat16).to(DEVICE)
    out, _, logits = run_layers(
        layout, weights, tokens.to(DEVICE), native=not interpreting(), store_logits=True
    )
    want, _ = reference(model, tokens)
    assert (logits.cpu() - want).abs().max() <= 5e-2 * want.abs().max()
    assert (out.cpu().long() == want.argmax(-1)).float().mean() >= 0.9
