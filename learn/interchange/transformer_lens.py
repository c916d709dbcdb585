"""circ circuits ↔ TransformerLens `HookedTransformer`s: config and weights, both ways, exactly.

A circuit is a TransformerLens model with these settings (learn/model.py):

    HookedTransformerConfig(d_model, d_head, n_heads, n_layers, d_mlp, n_ctx=n_positions,
        d_vocab=vocab, d_vocab_out=out_vocab, act_fn="relu", positional_embedding_type="standard",
        normalization_type=None (or "LN"), attention_dir="causal" | "bidirectional")

with the attention biases b_Q, b_K, b_V, b_O and the unembedding bias b_U zero (circ has none). Its
logits are TL's at the last `n_out` positions (circ's last block computes only those; no other
position reaches them, so they are the same numbers). Weights map one to one:

    embed.weight [vocab, d]               ↔ embed.W_E [d_vocab, d]
    pos_embed.weight [n_ctx, d]           ↔ pos_embed.W_pos
    attn.q.weight [h·d_head (out), d]     ↔ attn.W_Q [h, d, d_head]   (heads are row blocks; k, v too)
    attn.o.weight [d, h·d_head (in)]      ↔ attn.W_O [h, d_head, d]
    mlp.fc_in.{weight [d_mlp, d], bias}   ↔ mlp.W_in [d, d_mlp], mlp.b_in
    mlp.fc_out.{weight [d, d_mlp], bias}  ↔ mlp.W_out [d_mlp, d], mlp.b_out
    ln1/ln2/ln_final.{weight, bias}       ↔ ln1/ln2/ln_final.{w, b}
    unembed.weight [out_vocab, d]         ↔ unembed.W_U [d, d_vocab_out]

From TransformerLens, biases that circ lacks are folded where that is exact: b_K is dropped (it adds
the same score to every key of a query, which softmax ignores), b_V goes into b_O (attention weights
sum to one), and b_O into the MLP's biases (b_out += b_O, and b_in += W_in·b_O when there is no ln2).
b_Q and b_U change the answers and must be zero; every other setting must be circ's.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from circ.circuit.config import ModelConfig
from circ.lang.errors import ConfigError

# TransformerLens settings circ's transformer does not have, with the value a compatible model holds.
_DEFAULTS: dict[str, Any] = {
    "act_fn": "relu",
    "positional_embedding_type": "standard",
    "attn_only": False,
    "gated_mlp": False,
    "parallel_attn_mlp": False,
    "n_key_value_heads": None,
    "use_attn_scale": True,
    "scale_attn_by_inverse_layer_idx": False,
    "final_rms": False,
    "uses_rms_norm": False,
    "post_embedding_ln": False,
    "use_local_attn": False,
    "num_experts": None,
    "use_qk_norm": False,
    "rotary_dim": None,
    "attn_scores_soft_cap": -1.0,
    "output_logits_soft_cap": -1.0,
    "use_attention_sinks": False,
    "use_normalization_before_and_after": False,
}
LN_EPS = 1e-5  # torch.nn.LayerNorm's default, which circ uses; TransformerLens' default too


class InterchangeError(ConfigError):
    """A TransformerLens model circ cannot hold exactly; names the config field or tensor."""


def tl_config(cfg: ModelConfig, model_name: str = "circ") -> dict[str, Any]:
    """`HookedTransformerConfig(**tl_config(cfg))` is the circuit's architecture in TransformerLens."""
    return {
        "model_name": model_name,
        "d_model": cfg.d_model,
        "d_head": cfg.d_head,
        "n_heads": cfg.n_heads,
        "n_layers": cfg.n_layers,
        "d_mlp": cfg.d_mlp,
        "n_ctx": cfg.n_positions,
        "d_vocab": cfg.vocab,
        "d_vocab_out": cfg.out_vocab,
        "act_fn": "relu",
        "normalization_type": "LN" if cfg.layernorm else None,
        "eps": LN_EPS,
        "attention_dir": "causal" if cfg.causal else "bidirectional",
        "positional_embedding_type": "standard",
        "default_prepend_bos": False,  # circ's token layout has no BOS token
    }


def to_tl(state: dict[str, torch.Tensor], cfg: ModelConfig) -> dict[str, torch.Tensor]:
    """A circuit's weights as TransformerLens parameters (no buffers; zero biases where circ has none)."""
    h, dh, d = cfg.n_heads, cfg.d_head, cfg.d_model
    out = {
        "embed.W_E": state["embed.weight"],
        "pos_embed.W_pos": state["pos_embed.weight"],
        "unembed.W_U": state["unembed.weight"].T,
        "unembed.b_U": torch.zeros(cfg.out_vocab),
    }
    for layer in range(cfg.n_layers):
        c, t = f"blocks.{layer}.", f"blocks.{layer}."
        for name in ("q", "k", "v"):  # [h·dh, d] → [h, d, dh]
            out[f"{t}attn.W_{name.upper()}"] = (
                state[f"{c}attn.{name}.weight"].reshape(h, dh, d).transpose(1, 2)
            )
            out[f"{t}attn.b_{name.upper()}"] = torch.zeros(h, dh)
        out[f"{t}attn.W_O"] = state[f"{c}attn.o.weight"].T.reshape(h, dh, d)
        out[f"{t}attn.b_O"] = torch.zeros(d)
        out[f"{t}mlp.W_in"] = state[f"{c}mlp.fc_in.weight"].T
        out[f"{t}mlp.b_in"] = state[f"{c}mlp.fc_in.bias"]
        out[f"{t}mlp.W_out"] = state[f"{c}mlp.fc_out.weight"].T
        out[f"{t}mlp.b_out"] = state[f"{c}mlp.fc_out.bias"]
        if cfg.layernorm:
            for ln in ("ln1", "ln2"):
                out[f"{t}{ln}.w"], out[f"{t}{ln}.b"] = state[f"{c}{ln}.weight"], state[f"{c}{ln}.bias"]
    if cfg.layernorm:
        out["ln_final.w"], out["ln_final.b"] = state["ln_final.weight"], state["ln_final.bias"]
    return {k: v.detach().cpu().contiguous().clone() for k, v in out.items()}


def from_tl_config(tl: dict[str, Any], n_out: int) -> ModelConfig:
    """The circuit config of a TransformerLens config; `InterchangeError` names what does not fit."""
    for key, want in _DEFAULTS.items():
        if key in tl and tl[key] != want and not (want is None and tl[key] in (None, 0)):
            raise InterchangeError(f"config.{key}", f"circ's transformer needs {want!r}, got {tl[key]!r}")
    for key in ("d_model", "n_heads", "n_layers", "d_mlp", "n_ctx", "d_vocab"):
        if key not in tl:
            raise InterchangeError(f"config.{key}", "is required")
    d_model, n_heads = tl["d_model"], tl["n_heads"]
    d_head = tl.get("d_head", d_model // n_heads if n_heads else 0)
    if d_head * n_heads != d_model:
        raise InterchangeError("config.d_head", f"circ's heads tile d_model: need {d_model} // n_heads")
    if "attn_scale" in tl and not math.isclose(float(tl["attn_scale"]), math.sqrt(d_head)):
        raise InterchangeError(
            "config.attn_scale", f"circ scales scores by sqrt(d_head) = {math.sqrt(d_head)}"
        )
    norm = tl.get("normalization_type", "LN")
    if norm not in (None, "LN"):
        raise InterchangeError("config.normalization_type", f"circ has None or 'LN', got {norm!r}")
    if norm == "LN" and not math.isclose(float(tl.get("eps", LN_EPS)), LN_EPS):
        raise InterchangeError("config.eps", f"circ's LayerNorm has eps {LN_EPS}, got {tl['eps']}")
    direction = tl.get("attention_dir", "causal")
    if direction not in ("causal", "bidirectional"):
        raise InterchangeError("config.attention_dir", f"must be causal or bidirectional, got {direction!r}")
    out_vocab = tl.get("d_vocab_out", -1)
    return ModelConfig(
        vocab=tl["d_vocab"],
        n_positions=tl["n_ctx"],
        out_vocab=tl["d_vocab"] if out_vocab in (None, -1) else out_vocab,
        n_out=n_out,
        d_model=d_model,
        n_heads=n_heads,
        d_mlp=tl["d_mlp"],
        n_layers=tl["n_layers"],
        layernorm=norm == "LN",
        causal=direction == "causal",
    )


def from_tl(tl_state: dict[str, torch.Tensor], cfg: ModelConfig) -> dict[str, torch.Tensor]:
    """A TransformerLens state dict (its buffers ignored) as circuit weights of `cfg`."""
    h, dh, d = cfg.n_heads, cfg.d_head, cfg.d_model
    expected = _tl_shapes(cfg)
    for name, shape in expected.items():
        if name not in tl_state:
            if name.endswith(("b_Q", "b_K", "b_V", "b_O", "b_U")):
                continue  # a bias left out is a zero bias
            raise InterchangeError(name, "is missing from the state dict")
        if tuple(tl_state[name].shape) != shape:
            raise InterchangeError(name, f"has shape {tuple(tl_state[name].shape)}, the config needs {shape}")
    extra = sorted(set(tl_state) - set(expected) - {k for k in tl_state if k.endswith((".mask", ".IGNORE"))})
    if extra:
        raise InterchangeError(extra[0], "is not part of a circ-compatible model")
    sd = {k: v.detach().cpu().to(torch.float32) for k, v in tl_state.items()}

    def bias(name: str, shape: tuple[int, ...]) -> torch.Tensor:
        return sd.get(name, torch.zeros(shape))

    for name in [*(f"blocks.{i}.attn.b_Q" for i in range(cfg.n_layers)), "unembed.b_U"]:
        b = bias(name, expected[name])
        if b.abs().max().item() != 0.0:
            raise InterchangeError(
                name, f"must be zero (circ has no such bias); max |b| = {b.abs().max():.3g}"
            )
    out = {
        "embed.weight": sd["embed.W_E"],
        "pos_embed.weight": sd["pos_embed.W_pos"],
        "unembed.weight": sd["unembed.W_U"].T,
    }
    for layer in range(cfg.n_layers):
        t = f"blocks.{layer}."
        for name in ("q", "k", "v"):  # [h, d, dh] → [h·dh, d]
            out[f"{t}attn.{name}.weight"] = sd[f"{t}attn.W_{name.upper()}"].transpose(1, 2).reshape(h * dh, d)
        w_o = sd[f"{t}attn.W_O"]  # [h, dh, d]
        out[f"{t}attn.o.weight"] = w_o.reshape(h * dh, d).T
        b_o = bias(f"{t}attn.b_O", (d,)) + torch.einsum("hj,hjm->m", bias(f"{t}attn.b_V", (h, dh)), w_o)
        w_in, b_in = sd[f"{t}mlp.W_in"], sd[f"{t}mlp.b_in"]
        if b_o.abs().max().item() != 0.0:
            if cfg.layernorm:
                raise InterchangeError(f"{t}attn.b_O", "must be zero (with b_V) in a model with LayerNorm")
            b_in = b_in + b_o @ w_in  # the MLP saw the bias in its input …
        out[f"{t}mlp.fc_in.weight"], out[f"{t}mlp.fc_in.bias"] = w_in.T, b_in
        out[f"{t}mlp.fc_out.weight"] = sd[f"{t}mlp.W_out"].T
        out[f"{t}mlp.fc_out.bias"] = sd[f"{t}mlp.b_out"] + b_o  # … and the residual stream carries it on
        if cfg.layernorm:
            for ln in ("ln1", "ln2"):
                out[f"{t}{ln}.weight"], out[f"{t}{ln}.bias"] = sd[f"{t}{ln}.w"], sd[f"{t}{ln}.b"]
    if cfg.layernorm:
        out["ln_final.weight"], out["ln_final.bias"] = sd["ln_final.w"], sd["ln_final.b"]
    return {k: v.contiguous().clone() for k, v in out.items()}


def _tl_shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    h, dh, d, dm = cfg.n_heads, cfg.d_head, cfg.d_model, cfg.d_mlp
    shapes: dict[str, tuple[int, ...]] = {
        "embed.W_E": (cfg.vocab, d),
        "pos_embed.W_pos": (cfg.n_positions, d),
        "unembed.W_U": (d, cfg.out_vocab),
        "unembed.b_U": (cfg.out_vocab,),
    }
    for layer in range(cfg.n_layers):
        t = f"blocks.{layer}."
        for name in ("Q", "K", "V"):
            shapes[f"{t}attn.W_{name}"], shapes[f"{t}attn.b_{name}"] = (h, d, dh), (h, dh)
        shapes[f"{t}attn.W_O"], shapes[f"{t}attn.b_O"] = (h, dh, d), (d,)
        shapes[f"{t}mlp.W_in"], shapes[f"{t}mlp.b_in"] = (d, dm), (dm,)
        shapes[f"{t}mlp.W_out"], shapes[f"{t}mlp.b_out"] = (dm, d), (d,)
        if cfg.layernorm:
            for ln in ("ln1", "ln2"):
                shapes[f"{t}{ln}.w"], shapes[f"{t}{ln}.b"] = (d,), (d,)
    if cfg.layernorm:
        shapes["ln_final.w"], shapes["ln_final.b"] = (d,), (d,)
    return shapes


def hooked_transformer(cfg: ModelConfig, state: dict[str, torch.Tensor]) -> Any:
    """The circuit as a TransformerLens `HookedTransformer` (needs the `tl` extra), loaded strictly."""
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TL 3.x announces HookedTransformer's deprecation in 4.0
            from transformer_lens import HookedTransformer, HookedTransformerConfig

            model = HookedTransformer(HookedTransformerConfig(**tl_config(cfg)))
    except ImportError as exc:
        raise InterchangeError(
            "format", f"transformer-lens 3.x is not installed ({exc}); pip install 'circ[tl]'"
        ) from None
    params = to_tl(state, cfg)
    buffers = {k: v for k, v in model.state_dict().items() if k not in params}  # the attention masks
    model.load_state_dict({**params, **buffers}, strict=True)
    return model.eval()
