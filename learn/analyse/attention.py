"""Attention patterns per head: where each query position looks, averaged over inputs.

The circuit transformer has no pattern hook (its attention may run in a fused kernel), so the
pattern is recomputed from the cached `blocks.{L}.hook_resid_pre` with the block's own q/k weights,
exactly as `Attention.forward` scores them (scaled dot product, causal mask for a decoder).
"""

from __future__ import annotations

import math

import torch


@torch.no_grad()
def attention_patterns(model: torch.nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """`[n_layers, n_heads, pos, pos]`: each head's attention from query to key position, averaged
    over the rows of `tokens` `[batch, pos]` (every position queried, as with `all_positions`)."""
    cfg = model.cfg
    _, cache = model.run_with_cache(tokens, all_positions=True)
    pos, h, dh = tokens.shape[1], cfg.n_heads, cfg.d_head
    out = []
    for layer, block in enumerate(model.blocks):
        x = block.ln1(cache[f"blocks.{layer}.hook_resid_pre"])  # [batch, pos, d_model]
        q = block.attn.q(x).reshape(-1, pos, h, dh).transpose(1, 2)  # [batch, head, pos, d_head]
        k = block.attn.k(x).reshape(-1, pos, h, dh).transpose(1, 2)
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh)  # [batch, head, q_pos, k_pos]
        if cfg.causal:
            future = torch.ones(pos, pos, dtype=torch.bool).triu(1)
            scores = scores.masked_fill(future, float("-inf"))
        out.append(scores.softmax(-1).mean(0))
    return torch.stack(out)
