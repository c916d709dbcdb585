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
from circ.learn import folded
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
# the batch it came in, and are the ones its certificate saw. `hook_logits` sees the batch's logits
# once; with hooks inside there are no slabs (every hook sees the rows it was given).
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
        folded (one-layer models whose query tokens are the same in every row, else auto; either way
        `folded.ROWS` rows at a time, so a caller can pass a whole chunk)."""
        pos = tokens.shape[-1]
        if pos != self.cfg.n_positions:
            raise ValueError(f"expected {self.cfg.n_positions} positions, got {pos}")
        kept, passes = None, None
        if attn_impl == "folded":
            if self._foldable(tokens, all_positions):
                kept = folded.tables(self, tokens[0, -self.cfg.n_out :])
            if kept is None:  # refused: the ordinary path, in the passes the folded one would run
                attn_impl, passes = "auto", folded.ROWS

        def network(rows: torch.Tensor, passes: int | None) -> torch.Tensor:
            if kept is not None:  # in passes of folded.ROWS, which is BF16_ROWS
                return folded.logits(self, rows, kept)
            if passes is None or rows.shape[0] <= passes:
                return self._network(rows, attn_impl, all_positions)
            return torch.cat([self._network(part, attn_impl, all_positions) for part in rows.split(passes)])

        rows = tokens.shape[0]
        if self.embed.weight.dtype == torch.bfloat16 and rows not in (0, BF16_ROWS) and not self._hooked():
            padded = torch.cat([tokens, tokens[:1].expand(-rows % BF16_ROWS, -1)])
            return self.hook_logits(network(padded, BF16_ROWS)[:rows])
        return self.hook_logits(network(tokens, passes))

    def _network(self, tokens: torch.Tensor, attn_impl: str, all_positions: bool) -> torch.Tensor:
        """The logits through every block, each activation through its hook point."""
        pos = tokens.shape[-1]
        # the positions through the module, not `.weight`: an adapter on it (peft) must be applied
        positions = self.pos_embed(torch.arange(pos, device=tokens.device))
        resid = self.hook_embed(self.embed(tokens)) + self.hook_pos_embed(positions)
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            n_query = pos if all_positions or i < last else self.cfg.n_out
            resid = block(resid, n_query, attn_impl)
        return self.unembed(self.ln_final(resid))

    def _foldable(self, tokens: torch.Tensor, all_positions: bool) -> bool:
        """The folded block needs one layer, only the read positions queried, the same tokens there in
        every row, plain key and output projections (it reads their weights, so an unmerged adapter
        would be skipped), and no hooks inside (it computes no per-position activations to show)."""
        if len(self.blocks) != 1 or all_positions or not tokens.shape[0]:
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
