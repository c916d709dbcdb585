"""The circuit transformer (DESIGN §3): a small decoder- or encoder-only transformer.

Interface, for a runtime or the compiler:

    model(tokens)                      # tokens: LongTensor [batch, n_positions], laid out as in
      -> logits [batch, n_out, out_vocab]   # `circ.circuit.interface` (args, then `=` per output token)

Logits are read at the last `n_out` positions; argmax decodes each to an output token. The
`ModelConfig` (frozen, JSON in the safetensors metadata) fully determines the parameter shapes.

Parameters, by name (plain tensors, `[out, in]` for linear maps as in `nn.Linear`):

    embed.weight               [vocab, d_model]       token embedding
    pos_embed.weight           [n_positions, d_model] learned positions
    blocks.{L}.ln1.{weight,bias}, blocks.{L}.ln2.{…}  only with layernorm=True
    blocks.{L}.attn.{q,k,v,o}.weight [d_model, d_model]  heads are contiguous slices of d_head rows
    blocks.{L}.mlp.fc_in.{weight [d_mlp, d_model], bias [d_mlp]}    then ReLU
    blocks.{L}.mlp.fc_out.{weight [d_model, d_mlp], bias [d_model]}
    ln_final.{weight,bias}     only with layernorm=True
    unembed.weight             [out_vocab, d_model]

Every activation passes a named `HookPoint` (TransformerLens names: `hook_embed`, `hook_pos_embed`,
`blocks.{L}.hook_resid_pre`, `.hook_attn_out`, `.hook_resid_mid`, `.mlp.hook_pre`, `.mlp.hook_post`,
`.hook_mlp_out`, `.hook_resid_post`, `hook_logits`); `run_with_cache` returns them all.

The last block computes only the read positions: no other position can reach the logits, and it
halves the work of a one-layer model (measured: 17 → 8.5 ms/step for mod_add p=31 on one core).
Pass `all_positions=True` for activations (and logits) at every position.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save
from torch import nn

from circ.circuit.config import ModelConfig
from circ.circuit.weights import FORMAT, canonical
from circ.lang.errors import ConfigError
from circ.learn.atomic import write_atomic

try:  # optional: the GPU extra; used for half-precision CUDA tensors only
    from flash_attn import flash_attn_func  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the machine
    flash_attn_func = None


# the dtype of each precision a certificate can name (`circ.learn.catalog.certificates.PRECISIONS`)
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
# CPU bf16 kernels round differently by batch size: alone, in pairs or in threes, a few rows' bf16
# logits moved by up to 0.125, the least certified bf16 margin (mod97.sum_squares), while the rows
# of any 1,024-row batch, in any order, came out bit for bit the same (issue 19). So a bf16
# forward runs slabs of exactly this many rows (the last one padded): a row's logits do not depend on
# the batch it came in, and are the ones its certificate saw. (Not with hooks: they see every call.)
BF16_ROWS = 1 << 10


class HookPoint(nn.Module):
    """An identity whose forward hooks see one activation, named by its module path."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, impl: str) -> torch.Tensor:
    """q: [batch, q_pos, head, d_head] (the last q_pos positions); k, v: [batch, pos, head, d_head]
    → [batch, q_pos, head, d_head]. (flash_attn's layout: no transposes on the paths that matter.)"""
    n_q, n_k = q.shape[1], k.shape[1]
    if impl == "auto":
        half = q.dtype in (torch.float16, torch.bfloat16)
        impl = "flash" if flash_attn_func is not None and q.is_cuda and half else "sdpa"
    if impl == "flash":  # flash_attn aligns a causal mask bottom-right: exactly "queries are the last"
        return flash_attn_func(q, k, v, causal=causal)
    mask = None
    if causal:  # [q_pos, pos]: query i sits at position n_k - n_q + i
        mask = torch.arange(n_k, device=q.device) <= torch.arange(n_k - n_q, n_k, device=q.device)[:, None]
    if impl == "sdpa":
        out = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=mask
        )
        return out.transpose(1, 2)
    if impl != "math":
        raise ConfigError("attn_impl", f"must be auto, sdpa, flash, math or folded, got {impl!r}")
    # Plain ops, because vmap has no CPU batching rule for SDPA (it loops over members). With few
    # positions, broadcast products beat matmuls, which vmap turns into ~10⁵ tiny bmm calls plus
    # transposing copies (measured: 0.75× → see benchmarks/RESULTS.md for the ensemble ratio).
    scale = 1 / math.sqrt(q.shape[-1])
    if n_q * n_k <= 64:
        scores = (q.unsqueeze(2) * k.unsqueeze(1)).sum(-1) * scale  # [batch, q_pos, pos, head]
        if mask is not None:
            scores = scores.masked_fill(~mask[:, :, None], float("-inf"))
        return (scores.softmax(2).unsqueeze(-1) * v.unsqueeze(1)).sum(2)
    q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
    scores = q @ k.transpose(-1, -2) * scale  # [batch, head, q_pos, pos]
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return (scores.softmax(-1) @ v).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.q = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.k = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.v = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.o = nn.Linear(cfg.d_model, cfg.d_model, bias=False)

    def forward(self, x: torch.Tensor, n_query: int, impl: str) -> torch.Tensor:
        batch, pos, _ = x.shape  # [batch, pos, d_model]
        h, dh = self.cfg.n_heads, self.cfg.d_head

        def heads(t: torch.Tensor) -> torch.Tensor:  # [batch, p, d_model] -> [batch, p, head, d_head]
            return t.reshape(batch, -1, h, dh)

        # contiguous: vmap's matmul rule broadcasts the weight over a strided slice's batch (a 480× copy)
        q = heads(self.q(x[:, pos - n_query :].contiguous()))
        z = _attend(q, heads(self.k(x)), heads(self.v(x)), self.cfg.causal, impl)
        return self.o(z.reshape(batch, n_query, h * dh))  # [batch, q_pos, d_model]


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.fc_in = nn.Linear(cfg.d_model, cfg.d_mlp)
        self.fc_out = nn.Linear(cfg.d_mlp, cfg.d_model)
        self.hook_pre = HookPoint()  # [batch, pos, d_mlp]
        self.hook_post = HookPoint()  # [batch, pos, d_mlp]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc_out(self.hook_post(F.relu(self.hook_pre(self.fc_in(x)))))


def _norm(cfg: ModelConfig) -> nn.Module:
    return nn.LayerNorm(cfg.d_model) if cfg.layernorm else nn.Identity()


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.ln1, self.ln2 = _norm(cfg), _norm(cfg)
        self.attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.hook_resid_pre = HookPoint()  # [batch, pos, d_model]
        self.hook_attn_out = HookPoint()  # [batch, q_pos, d_model]
        self.hook_resid_mid = HookPoint()  # [batch, q_pos, d_model]
        self.hook_mlp_out = HookPoint()  # [batch, q_pos, d_model]
        self.hook_resid_post = HookPoint()  # [batch, q_pos, d_model]

    def forward(self, resid: torch.Tensor, n_query: int, impl: str) -> torch.Tensor:
        resid = self.hook_resid_pre(resid)
        attn_out = self.hook_attn_out(self.attn(self.ln1(resid), n_query, impl))
        resid = self.hook_resid_mid(resid[:, resid.shape[1] - n_query :] + attn_out)
        resid = resid + self.hook_mlp_out(self.mlp(self.ln2(resid)))
        return self.hook_resid_post(resid)


class CircuitTransformer(nn.Module):
    """See the module docstring for the token interface, parameter names and hook names."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab, cfg.d_model)
        self.pos_embed = nn.Embedding(cfg.n_positions, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_final = _norm(cfg)
        self.unembed = nn.Linear(cfg.d_model, cfg.out_vocab, bias=False)
        self.hook_embed = HookPoint()  # [batch, pos, d_model]
        self.hook_pos_embed = HookPoint()  # [pos, d_model]
        self.hook_logits = HookPoint()  # [batch, n_out, out_vocab]
        # a plain list, not registered: the hooks `_foldable` looks for (walking the modules per call
        # was 6% of a bf16 run)
        self._inner_points = [
            m for m in self.modules() if isinstance(m, HookPoint) and m is not self.hook_logits
        ]

    def forward(
        self, tokens: torch.Tensor, *, attn_impl: str = "auto", all_positions: bool = False
    ) -> torch.Tensor:
        """tokens [batch, n_positions] → logits [batch, n_out, out_vocab] ([batch, n_positions, …]
        with `all_positions`). `attn_impl`: auto (flash_attn on half CUDA, else SDPA) | sdpa | math |
        folded (one-layer models whose query tokens are the same in every row, else auto)."""
        pos = tokens.shape[-1]
        if pos != self.cfg.n_positions:
            raise ValueError(f"expected {self.cfg.n_positions} positions, got {pos}")
        rows = tokens.shape[0]
        if self.embed.weight.dtype == torch.bfloat16 and rows not in (0, BF16_ROWS) and not self._hooked():
            padded = torch.cat([tokens, tokens[:1].expand(-rows % BF16_ROWS, -1)])
            slabs = [
                self(s, attn_impl=attn_impl, all_positions=all_positions) for s in padded.split(BF16_ROWS)
            ]
            return torch.cat(slabs)[:rows]
        if attn_impl == "folded":
            if self._foldable(tokens, all_positions):
                return self.hook_logits(self.unembed(self.ln_final(self._folded(tokens))))
            attn_impl = "auto"
        # the positions through the module, not `.weight`: an adapter on it (peft) must be applied
        positions = self.pos_embed(torch.arange(pos, device=tokens.device))
        resid = self.hook_embed(self.embed(tokens)) + self.hook_pos_embed(positions)
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            n_query = pos if all_positions or i < last else self.cfg.n_out
            resid = block(resid, n_query, attn_impl)
        return self.hook_logits(self.unembed(self.ln_final(resid)))

    def _foldable(self, tokens: torch.Tensor, all_positions: bool) -> bool:
        """The folded block needs one layer, only the read positions queried, the same tokens there in
        every row, plain key and output projections (it reads their weights, so an unmerged adapter
        would be skipped), and no hooks inside (it computes no per-position activations to show)."""
        if len(self.blocks) != 1 or all_positions:
            return False
        attn = self.blocks[0].attn
        if type(attn.k) is not nn.Linear or type(attn.o) is not nn.Linear:
            return False
        if self._hooked():
            return False
        queried = tokens[:, tokens.shape[-1] - self.cfg.n_out :]
        return bool((queried == queried[:1]).all())

    def _hooked(self) -> bool:
        return any(m._forward_hooks or m._forward_pre_hooks for m in self._inner_points)

    def _folded(self, tokens: torch.Tensor) -> torch.Tensor:
        """The block of a one-layer circuit whose query positions hold the same tokens in every row
        (`_foldable`: the `=` queries of every circuit call), reassociated — the same network with
        no per-row embedding, key, value or output projection (issue 19):
        - the query positions' residual, queries, own keys and values are the same in every row, so
          each head's query is one vector and those are computed once;
        - an argument position's residual is a function of its (position, token) only, so its
          attention scores (residual @ Wₖᵀq) and its value through each head's slice of the output
          projection are tables of n_args × vocab rows, gathered per row;
        - softmax over the keys, then the weighted sum of those gathered values is the attention
          output; the MLP runs on the query positions as before.
        On the seq6 circuits, 11–18% faster in fp32 than folding the scores alone (3–9% in bf16);
        gathering per-head values of d_head instead was no faster (benchmarks/RESULTS.md, round 4).
        → resid_post [batch, n_out, d_model]."""
        cfg, block = self.cfg, self.blocks[0]
        attn, device = block.attn, tokens.device
        batch, pos = tokens.shape
        n_q, h, dh, d = cfg.n_out, cfg.n_heads, cfg.d_head, cfg.d_model
        n_arg = pos - n_q
        n_table = n_arg * cfg.vocab
        positions = self.pos_embed(torch.arange(pos, device=device))
        resid = self.embed(tokens[0, n_arg:]) + positions[n_arg:]  # [q, d], the same in every row
        same = block.ln1(resid)
        every = self.embed(torch.arange(cfg.vocab, device=device))  # [vocab, d]
        table = block.ln1(every[None] + positions[:n_arg, None]).reshape(n_table, d)  # (position, token)
        query = attn.q(same).reshape(n_q, h, dh).transpose(0, 1)  # [h, q, dh]
        fold = (query @ attn.k.weight.reshape(h, dh, d) / math.sqrt(dh)).permute(2, 1, 0)  # [d, q, h]
        fold = fold.reshape(d, n_q * h)
        own = (same @ fold).reshape(n_q, n_q, h)  # [own key, query, head]
        if cfg.causal:  # a query sees every argument, and the query positions up to its own
            later = torch.ones(n_q, n_q, dtype=torch.bool, device=device).tril(-1)
            own = own.masked_fill(later[:, :, None], float("-inf"))
        out_heads = attn.o.weight.reshape(d, h, dh)

        def through_o(x: torch.Tensor) -> torch.Tensor:  # [n, d] → each head's value, then O: [h, n, d]
            return torch.einsum("nhe,dhe->hnd", attn.v(x).reshape(-1, h, dh), out_heads)

        slot = tokens[:, :n_arg] + torch.arange(n_arg, device=device) * cfg.vocab  # [batch, args]
        scores = F.embedding(slot, table @ fold)  # [batch, args, q·h]
        # softmax over the keys in dim 1 (PyTorch's CPU kernel is 7× slower over a last dim of 12), and
        # in fp32 for bf16 keys too: 2.6× faster than its bf16 kernel, then rounded to bf16
        keys = torch.cat([scores, own.reshape(1, n_q, n_q * h).expand(batch, -1, -1)], dim=1)
        weights = keys.softmax(1, dtype=torch.float32).to(keys.dtype)
        weights = weights.reshape(batch, pos, n_q, h).permute(0, 2, 3, 1)  # [b, q, h, key]
        # the gathered values of every head and argument, [batch, h·args, d], by (head, argument)
        per_head = slot[:, None] + torch.arange(h, device=device)[:, None] * n_table
        values = F.embedding(per_head.reshape(batch, h * n_arg), through_o(table).reshape(h * n_table, d))
        out = weights[..., :n_arg].reshape(batch, n_q, h * n_arg).bmm(values)
        own_out = weights[..., n_arg:].reshape(batch * n_q, h * n_q) @ through_o(same).reshape(h * n_q, d)
        resid = resid + out + own_out.reshape(batch, n_q, d)
        return resid + block.mlp(block.ln2(resid))

    def hook_names(self) -> list[str]:
        return [name for name, m in self.named_modules() if isinstance(m, HookPoint)]

    @torch.no_grad()
    def run_with_cache(
        self, tokens: torch.Tensor, all_positions: bool = True
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Logits and every hooked activation, by hook name (detached)."""
        cache: dict[str, torch.Tensor] = {}

        def keep(name: str) -> Any:
            return lambda _module, _inputs, out: cache.__setitem__(name, out.detach())

        handles = [
            m.register_forward_hook(keep(name))
            for name, m in self.named_modules()
            if isinstance(m, HookPoint)
        ]
        try:
            logits = self(tokens, all_positions=all_positions)
        finally:
            for h in handles:
                h.remove()
        return logits, cache


def init_weights(model: CircuitTransformer, seed: int) -> CircuitTransformer:
    """Seeded init, independent of the global RNG and the device: N(0, 1/fan_in) for linear maps and
    N(0, 1/d_model) for embeddings (as in Nanda et al.'s grokking models), zero biases, unit norms."""
    gen = torch.Generator().manual_seed(seed)
    d = model.cfg.d_model
    with torch.no_grad():
        for name, p in model.named_parameters():  # a fixed order, so a seed always gives one model
            if name.endswith(".bias"):
                p.zero_()
            elif ".ln" in name or name.startswith("ln_"):
                p.fill_(1.0)
            else:
                fan_in = d if "embed" in name else p.shape[1]
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(fan_in))
    return model


def build_model(cfg: ModelConfig, seed: int, device: str | torch.device = "cpu") -> CircuitTransformer:
    return init_weights(CircuitTransformer(cfg), seed).to(device)


def save_weights(
    path: str | Path, state: dict[str, torch.Tensor], cfg: ModelConfig, metadata: dict[str, str] | None = None
) -> None:
    """Weights as safetensors with the config (JSON) and any extra strings in the metadata, in the one
    canonical byte layout (`circ.circuit.weights.canonical`), so the same weights hash the same."""
    path = Path(path)
    write_atomic(path, weight_bytes(state, cfg, metadata))


def weight_bytes(
    state: dict[str, torch.Tensor], cfg: ModelConfig, metadata: dict[str, str] | None = None
) -> bytes:
    meta = {"format": FORMAT, "config": json.dumps(cfg.to_dict(), sort_keys=True), **(metadata or {})}
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    return canonical(save(tensors, metadata=meta))


def load_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], ModelConfig, dict[str, str]]:
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a circ circuit (format {meta.get('format')!r})")
    return load_file(str(path)), ModelConfig.from_dict(json.loads(meta["config"])), meta


def load_model(path: str | Path, device: str | torch.device = "cpu") -> CircuitTransformer:
    state, cfg, _ = load_weights(path)
    model = CircuitTransformer(cfg)
    model.load_state_dict(state)
    return model.to(device).eval()
