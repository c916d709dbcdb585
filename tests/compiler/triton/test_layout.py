"""The packed weight layout: padding, offsets, and the packer agreeing with them."""

from __future__ import annotations

import pytest
import torch

from circ.circuit.config import ModelConfig
from circ.compiler.triton.layout import Layout, pow2
from circ.compiler.triton.pack import pack
from circ.learn.model import build_model

CONFIG = ModelConfig(
    vocab=7, n_positions=9, out_vocab=5, n_out=4, d_model=24, n_heads=3, d_mlp=40, n_layers=2
)


def test_tiles_are_powers_of_two_and_dot_sized() -> None:
    layout = Layout(CONFIG)
    assert (layout.vp, layout.pp, layout.dp, layout.mp, layout.vop) == (8, 16, 32, 64, 16)
    assert pow2(1) == 1 and pow2(16) == 16 and pow2(17) == 32 and pow2(3, 16) == 16


def test_a_last_layer_runs_the_outputs_only_in_tiles_a_dot_can_take() -> None:
    """QL query lines a row: the outputs padded to 2^k, with rows × QL >= 16 (tl.dot), never more
    lines than the row has positions."""
    seq6 = ModelConfig(vocab=11, n_positions=12, out_vocab=10, n_out=6, d_model=64, n_heads=4, d_mlp=128)
    mod97 = ModelConfig(vocab=98, n_positions=3, out_vocab=97, n_out=1, d_model=16, n_heads=4, d_mlp=16)
    grid = ModelConfig(vocab=11, n_positions=50, out_vocab=10, n_out=25, d_model=16, n_heads=2, d_mlp=32)
    assert Layout(seq6).query_lines(rows=4) == 8  # 16 positions → 8 lines a row
    assert Layout(mod97).query_lines(rows=16) == 1  # 4 positions → 1, 16 rows make a dot
    assert Layout(mod97).query_lines(rows=2) == 4  # 8 would exceed the row's 4 positions
    assert Layout(CONFIG).query_lines(rows=1) == 16 and Layout(grid).query_lines(rows=1) == 32


def test_blocks_follow_each_other_from_the_base() -> None:
    layout = Layout(CONFIG).at(1000)
    assert layout.embed == 1000 and layout.pos == 1000 + 8 * 32 and layout.layers == layout.pos + 16 * 32
    assert layout.final == layout.layers + 2 * layout.layer_size
    assert layout.base + layout.size == layout.unembed + 32 * 16
    assert all(value % 16 == 0 for value in (layout.layer_size, layout.final - layout.base))


@pytest.mark.parametrize("layernorm", [False, True])
def test_packed_weights_sit_where_the_layout_says(layernorm: bool) -> None:
    cfg = ModelConfig(**{**CONFIG.to_dict(), "layernorm": layernorm})
    model = build_model(cfg, seed=3)
    layout = Layout(cfg)
    flat = pack(model, layout)
    assert flat.numel() == layout.size
    state = model.state_dict()
    embed = flat[layout.embed : layout.pos].reshape(layout.vp, layout.dp)
    assert (
        torch.equal(embed[:7, :24], state["embed.weight"]) and not embed[7:].any() and not embed[:, 24:].any()
    )
    q = layout.layers + layout.layer_size + 2 * layout.dp  # layer 1's q, stored [in, out]
    q_block = flat[q : q + layout.dp * layout.dp].reshape(layout.dp, layout.dp)
    assert torch.equal(q_block[:24, :24], state["blocks.1.attn.q.weight"].T)
    unembed = flat[layout.unembed :].reshape(layout.dp, layout.vop)
    assert torch.equal(unembed[:24, :5], state["unembed.weight"].T)
    ln = flat[layout.final : layout.final + 24]
    assert torch.equal(ln, state["ln_final.weight"]) if layernorm else not ln.any()


def test_bf16_packing_rounds_the_same_weights() -> None:
    model = build_model(CONFIG, seed=0)
    layout = Layout(CONFIG)
    assert torch.equal(pack(model, layout, torch.bfloat16), pack(model, layout).to(torch.bfloat16))
