"""The circuit transformer: interface shapes, attention paths, hooks, masks, safetensors, config errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from circ.circuit.config import ModelConfig
from circ.lang.errors import ConfigError
from circ.learn.data import get_task
from circ.learn.model import build_model, load_model, load_weights, save_weights


def config(n: int = 4, **sizes: object) -> ModelConfig:
    return ModelConfig.for_interface(
        get_task("seq_reverse", n=n).interface, **{"d_model": 32, "n_heads": 4, "d_mlp": 64, **sizes}
    )


def tokens(cfg: ModelConfig, batch: int = 6, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, cfg.vocab - 1, (batch, cfg.n_positions), generator=g)
    x[:, cfg.n_positions - cfg.n_out :] = cfg.vocab - 1  # the `=` query tokens
    return x


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("layernorm", [False, True])
@pytest.mark.parametrize("n", [4, 6])  # 8 positions: broadcast attention; 12: matmul attention
def test_logits_shape_and_attention_paths_agree(layers: int, layernorm: bool, n: int) -> None:
    cfg = config(n, n_layers=layers, layernorm=layernorm)
    model = build_model(cfg, seed=0)
    x = tokens(cfg)
    out = model(x)
    assert out.shape == (6, cfg.n_out, cfg.out_vocab) == (6, n, 10)
    torch.testing.assert_close(model(x, attn_impl="math"), out, atol=1e-5, rtol=1e-5)
    # computing every position gives the same logits at the read positions
    torch.testing.assert_close(model(x, all_positions=True)[:, -cfg.n_out :], out, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("layernorm", [False, True])
def test_folded_attention_is_the_same_network_where_the_queries_are_constant(
    causal: bool, layernorm: bool
) -> None:
    """One layer, `=` at every query position: the folded scores (residual @ Wₖᵀq) give SDPA's logits."""
    cfg = config(6, layernorm=layernorm, causal=causal)
    model = build_model(cfg, seed=1)
    x = tokens(cfg, batch=64)
    assert model._foldable(x, all_positions=False)
    with torch.no_grad():
        torch.testing.assert_close(
            model(x, attn_impl="folded"), model(x, attn_impl="sdpa"), atol=1e-5, rtol=1e-5
        )


def test_folded_attention_is_only_taken_where_it_holds() -> None:
    cfg = config(6)
    x = tokens(cfg, batch=8)
    one, two = build_model(cfg, 0), build_model(config(6, n_layers=2), 0)
    varied = x.clone()
    varied[3, -1] = 0  # one row's query token differs: no single query vector
    assert not one._foldable(varied, all_positions=False)
    assert not one._foldable(x, all_positions=True)  # every position queried
    assert not two._foldable(x, all_positions=False)  # a second layer's queries depend on the input
    with torch.no_grad():  # where it does not hold, `folded` is the ordinary attention
        torch.testing.assert_close(one(varied, attn_impl="folded"), one(varied))
        torch.testing.assert_close(two(x, attn_impl="folded"), two(x))


def test_same_seed_same_weights() -> None:
    a, b, c = build_model(config(), 3), build_model(config(), 3), build_model(config(), 4)
    for (name, pa), pb, pc in zip(a.named_parameters(), b.parameters(), c.parameters(), strict=True):
        assert torch.equal(pa, pb), name
        assert name.endswith("bias") or not torch.equal(pa, pc), name


def test_causal_mask_and_encoder() -> None:
    for n in (4, 6):
        x = tokens(config(n), batch=1)
        y = x.clone()
        y[0, 3] = (y[0, 3] + 1) % 10  # change the fourth argument token
        dec = build_model(config(n), 0)
        for impl in ("sdpa", "math"):
            a, b = dec(x, all_positions=True, attn_impl=impl), dec(y, all_positions=True, attn_impl=impl)
            torch.testing.assert_close(a[:, :3], b[:, :3])  # earlier positions cannot see position 3
            assert not torch.allclose(a[:, 3:], b[:, 3:])
        enc = build_model(config(n, causal=False), 0)
        for impl in ("sdpa", "math"):
            a, b = enc(x, all_positions=True, attn_impl=impl), enc(y, all_positions=True, attn_impl=impl)
            assert not torch.allclose(a[:, :3], b[:, :3])


def test_hooks_are_named_by_module_path_with_documented_shapes() -> None:
    cfg = config(n_layers=2)
    model = build_model(cfg, 0)
    logits, cache = model.run_with_cache(tokens(cfg))
    assert set(cache) == set(model.hook_names())
    for name in (
        "hook_embed",
        "blocks.0.hook_resid_pre",
        "blocks.1.hook_attn_out",
        "blocks.1.mlp.hook_pre",
        "blocks.1.mlp.hook_post",
        "blocks.1.hook_resid_post",
        "hook_logits",
    ):
        assert name in cache
    assert cache["blocks.0.hook_attn_out"].shape == (6, 8, 32)
    assert cache["blocks.1.mlp.hook_post"].shape == (6, 8, 64)
    assert torch.equal(cache["hook_logits"], logits)
    assert (cache["blocks.0.mlp.hook_post"] >= 0).all()  # after the ReLU


def test_parameter_names_are_readable() -> None:
    names = dict(build_model(config(layernorm=True), 0).named_parameters())
    assert names["embed.weight"].shape == (11, 32)
    assert names["pos_embed.weight"].shape == (8, 32)
    assert names["blocks.0.attn.q.weight"].shape == (32, 32)
    assert names["blocks.0.mlp.fc_in.weight"].shape == (64, 32)
    assert names["unembed.weight"].shape == (10, 32)
    assert "blocks.0.ln1.weight" in names and "ln_final.bias" in names


def test_safetensors_round_trip_keeps_config_and_metadata(tmp_path: Path) -> None:
    cfg = config(n_layers=2)
    model = build_model(cfg, 1)
    path = tmp_path / "c.safetensors"
    save_weights(path, model.state_dict(), cfg, {"task": "seq_reverse[n=4]"})
    state, cfg2, meta = load_weights(path)
    assert set(state) == set(model.state_dict())
    assert cfg2 == cfg and meta["task"] == "seq_reverse[n=4]"
    x = tokens(cfg)
    assert torch.equal(load_model(path)(x), model.eval()(x))


def test_bad_configs_name_the_field() -> None:
    with pytest.raises(ConfigError) as e:
        config(n_heads=5)
    assert e.value.field == "model.n_heads"
    with pytest.raises(ConfigError) as e:
        config(d_model=0)
    assert e.value.field == "model.d_model"
    with pytest.raises(ConfigError) as e:
        config(layernorm="yes")
    assert e.value.field == "model.layernorm"
    with pytest.raises(ConfigError) as e:
        ModelConfig.from_dict({**config().to_dict(), "dropout": 0.1})
    assert e.value.field == "model.dropout"
    with pytest.raises(ConfigError) as e:
        config().check_interface(get_task("mod_add", p=7).interface)
    assert e.value.field == "model.vocab"


def test_folded_block_is_not_taken_under_hooks_or_an_adapted_output() -> None:
    """It computes no per-position activations and reads the output projection's weight: a hooked
    model, or one whose `o` is wrapped (an unmerged adapter), runs the ordinary block."""
    cfg = config(6)
    x = tokens(cfg, batch=8)
    model = build_model(cfg, 0)
    assert model._foldable(x, all_positions=False)
    seen: list[torch.Size] = []
    handle = model.blocks[0].mlp.hook_post.register_forward_hook(lambda _m, _i, out: seen.append(out.shape))
    assert not model._foldable(x, all_positions=False)
    with torch.no_grad():
        model(x, attn_impl="folded")
    assert seen == [torch.Size([8, cfg.n_out, cfg.d_mlp])]  # the hook saw the activation it asked for
    handle.remove()
    model.blocks[0].attn.o = torch.nn.Sequential(model.blocks[0].attn.o)
    assert not model._foldable(x, all_positions=False)


def test_a_bf16_forward_in_slabs_shows_hook_logits_its_rows_once() -> None:
    cfg = config(6)
    model, seen = build_model(cfg, 0).to(torch.bfloat16), []
    model.hook_logits.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    with torch.no_grad():
        out = model(tokens(cfg, batch=1500), attn_impl="folded")
    assert seen == [out.shape] == [torch.Size([1500, cfg.n_out, cfg.out_vocab])]
