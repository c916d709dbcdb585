"""A circuit's weights as float64 tensors, by layer, for bound computation.

Bounds are computed in float64 on the stored fp32 weights (each fp32 value is exact in float64), so
what is proved is a fact about the network in exact arithmetic; `prove.FP32_ALLOWANCE` covers the
difference to the fp32 forward pass that runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from circ.circuit.config import ModelConfig
from circ.learn.model import CircuitTransformer

LN_EPS = 1e-5  # nn.LayerNorm's default, which learn/model.py uses


@dataclass(frozen=True)
class Norm:
    weight: torch.Tensor  # [d]
    bias: torch.Tensor  # [d]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(-1, keepdim=True)
        var = ((x - mean) ** 2).mean(-1, keepdim=True)
        return (x - mean) / torch.sqrt(var + LN_EPS) * self.weight + self.bias


@dataclass(frozen=True)
class Layer:
    ln1: Norm | None
    wq: torch.Tensor  # [d, d] (rows = output features, heads contiguous)
    wk: torch.Tensor
    wv: torch.Tensor
    wo: torch.Tensor
    ln2: Norm | None
    w1: torch.Tensor  # [d_mlp, d]
    b1: torch.Tensor  # [d_mlp]
    w2: torch.Tensor  # [d, d_mlp]
    b2: torch.Tensor  # [d]


@dataclass(frozen=True)
class Weights:
    cfg: ModelConfig
    embed: torch.Tensor  # [vocab, d]
    pos: torch.Tensor  # [n_positions, d]
    layers: tuple[Layer, ...]
    ln_final: Norm | None
    unembed: torch.Tensor  # [out_vocab, d]

    @property
    def scale(self) -> float:
        return 1 / math.sqrt(self.cfg.d_head)


def weights_of(model: CircuitTransformer) -> Weights:
    s = {k: v.detach().to(torch.float64) for k, v in model.state_dict().items()}
    cfg = model.cfg

    def norm(prefix: str) -> Norm | None:
        return Norm(s[f"{prefix}.weight"], s[f"{prefix}.bias"]) if cfg.layernorm else None

    layers = tuple(
        Layer(
            norm(f"blocks.{i}.ln1"),
            *(s[f"blocks.{i}.attn.{n}.weight"] for n in "qkvo"),
            norm(f"blocks.{i}.ln2"),
            s[f"blocks.{i}.mlp.fc_in.weight"],
            s[f"blocks.{i}.mlp.fc_in.bias"],
            s[f"blocks.{i}.mlp.fc_out.weight"],
            s[f"blocks.{i}.mlp.fc_out.bias"],
        )
        for i in range(cfg.n_layers)
    )
    return Weights(
        cfg, s["embed.weight"], s["pos_embed.weight"], layers, norm("ln_final"), s["unembed.weight"]
    )
