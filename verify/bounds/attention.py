"""First-layer attention seen from one query position, for every (key position, token) pair.

At a position holding a fixed token (the `=` every output is read at), a head's score for key
position j depends only on j's token, so these tables describe the layer exactly: a region of
inputs (an allowed token set per position) picks rows out of them, and `mixture.mixture_min` bounds
any linear read-out of the head over the region with no relaxation at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from circ.verify.bounds.weights import Weights


@dataclass(frozen=True)
class HeadTables:
    scores: torch.Tensor  # [H, P, V] score of key position p holding token v (P: the keys the query sees)
    values: torch.Tensor  # [H, P, V, d_head] value vector of that key
    resid: torch.Tensor  # [d] the query position's residual before the layer (embedding + position)


def key_rows(w: Weights, n_keys: int) -> torch.Tensor:
    """[P, V, d]: every token at every one of the first `n_keys` positions, after ln1."""
    x = w.embed[None, :, :] + w.pos[:n_keys, None, :]
    ln1 = w.layers[0].ln1
    return ln1(x) if ln1 is not None else x


def first_layer_tables(w: Weights, query_pos: int, query_token: int) -> HeadTables:
    cfg, layer = w.cfg, w.layers[0]
    n_keys = query_pos + 1 if cfg.causal else cfg.n_positions
    h, dh = cfg.n_heads, cfg.d_head
    x = key_rows(w, n_keys)  # [P, V, d]
    resid = w.embed[query_token] + w.pos[query_pos]
    xq = layer.ln1(resid) if layer.ln1 is not None else resid
    q = (layer.wq @ xq).view(h, dh)
    k = (x @ layer.wk.T).view(n_keys, -1, h, dh)
    v = (x @ layer.wv.T).view(n_keys, -1, h, dh)
    scores = torch.einsum("pvhd,hd->hpv", k, q) * w.scale
    return HeadTables(scores, v.permute(2, 0, 1, 3).contiguous(), resid)


def allowed_keys(region: torch.Tensor, n_keys: int, vocab: int, fixed: dict[int, int]) -> torch.Tensor:
    """Region masks `[R, n_in, V_arg]` → key masks `[R, n_keys, vocab]`: inputs as the region
    allows, every other visible position holding its one fixed token (`fixed`: position → token)."""
    r, n_in, v_arg = region.shape
    out = torch.zeros(r, n_keys, vocab, dtype=torch.bool)
    out[:, : min(n_in, n_keys), :v_arg] = region[:, :n_keys]
    for pos, token in fixed.items():
        if pos < n_keys:
            out[:, pos] = False
            out[:, pos, token] = True
    return out
