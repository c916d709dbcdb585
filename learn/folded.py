"""The folded block: one-layer attention over constant queries as exponentiated lookup tables (issue 19).

Every circuit call queries its `=` positions, which hold the same tokens in every row, so in a
one-layer circuit:
- the query positions' residual, queries, own keys and values are the same in every row;
- an argument position's residual is a function of its (position, token) only, so its attention
  scores against every (head, query) (residual @ Wₖᵀq) and its value through each head's slice of
  the output projection are tables of args × vocab rows.
Softmax is shift-invariant, so each score column is exponentiated once, against its largest entry
M (every factor ≤ 1): a row's attention weights are its gathered factors over their sum. That is
softmax's value while the row's own largest score is within `SPREAD` of M — the query's score for
its own position is in every row, so the tables are refused (the ordinary path runs) where
M − that score exceeds it; within it no factor that matters underflows fp32 (e⁻⁶⁰ ≫ 2⁻¹²⁶). The
own keys' share is constant up to each row's 1 / sum, so it is one matmul of those scales.
Without LayerNorms after the attention (every shipped circuit) the MLP's input layer and the
unembedding are linear in that residual too, so the tables go through them once (`bag`): a row's
hidden pre-activations and its residual's logits are one weighted sum of table rows
(`F.embedding_bag`), and the unembedding reads the hidden units through the MLP's output
projection (fc_out, the MLP input and the final residual are never formed). What is left per row:
a gather, a sum, a reciprocal, that weighted sum, a ReLU and one small matmul.

The tables depend only on the weights and the query tokens, so under `torch.no_grad` they are
kept with an exact copy of the weights they came from and reused while those compare equal (the
comparison is a few % of recomputing them; version counters would miss writes through `.data`).
Tables from modules other than plain ones (an adapter) are not kept: their output can change
without their weights changing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from circ.learn.model import CircuitTransformer

SPREAD = 60.0
# the bag's width is padded to a multiple of this (one AVX-512 register of fp32): seq6's 138 columns
# summed 1.16–1.26× faster as 144, and the logits stayed the same bit for bit on the whole domains
# of the 29 folded stdlib circuits, fp32 and bf16 (issue 19)
BAG_COLUMNS = 16
# rows per pass through the tables: a 1,024-row call's activations stay in cache (the runtime's
# NETWORK_ROWS, which certificates are computed at)
ROWS = 1 << 10
# oneDNN's linear with a fused activation, as torch.compile's CPU code calls it; absent without it
ONEDNN = (
    getattr(torch.ops.mkldnn, "_linear_pointwise", None) if torch.backends.mkldnn.is_available() else None
)
PLAIN = (nn.Linear, nn.Embedding, nn.LayerNorm, nn.Identity)


@dataclass(frozen=True)
class Tables:
    """fp32: `factors` [args·vocab, h·q], exp(score − M) of each argument (position, token) for each
    (head, query) column, and `own_sum` [h·q], the query positions' own keys' factors summed (0
    where causally hidden). In the model's dtype: `values` [args·vocab·h, d], each argument row's
    value through each head's slice of O; `own` [q·d, h·q], the own keys' factor-weighted values
    per (head, query), block-diagonal so that one matmul of a row's [h·q] scales gives its [q, d];
    `resid` [q, d], the query positions' residual. Where the MLP's input layer, output layer and
    the unembedding are plain and nothing normalises between them (else None): `bag`
    [args·vocab·h + h·q + q, d_mlp + out_vocab], the rows of `values`, of the own keys' values
    per (head, query), and of each query's residual (with the biases), each through the MLP's
    input layer and the unembedding; `bag_rows` [q, h + 1], the own and residual rows each query
    adds; `readout` [out_vocab, d_mlp + out_vocab], the unembedding through the MLP's output
    layer, then the identity (the residual's logits pass through). Zero columns between the
    hidden units and the logits pad both widths to a multiple of `BAG_COLUMNS`."""

    resid: torch.Tensor
    factors: torch.Tensor
    values: torch.Tensor
    own_sum: torch.Tensor
    own: torch.Tensor
    bag: torch.Tensor | None
    bag_rows: torch.Tensor | None
    readout: torch.Tensor | None


def tables(model: CircuitTransformer, queried: torch.Tensor) -> Tables | None:
    """The folded tables for these query tokens, kept where that is sound; None where the score
    spread is too wide for fixed shifts."""
    sources = _sources(model)
    if torch.is_grad_enabled() or not all(type(m) in PLAIN for m in sources):
        return _compute(model, queried)
    weights = [p for m in sources for p in m._parameters.values() if p is not None]
    kept = getattr(model, "_folded_tables", None)
    if kept is not None and _same(kept[0], queried, weights):
        return kept[1]
    made = _compute(model, queried)
    model._folded_tables = ((queried.clone(), [p.detach().clone() for p in weights]), made)
    return made


def logits(model: CircuitTransformer, tokens: torch.Tensor, folded: Tables) -> torch.Tensor:
    """The logits at the query positions, [batch, q, out_vocab], `ROWS` rows at a time. A caller
    passes a whole chunk: the tables are checked once for it (that check, per 1,024-row call, was
    5–9% of a seq6 run in a cProfile), and the bag's constant index and weight columns are written
    once."""
    cfg, device = model.cfg, tokens.device
    n_arg = cfg.n_positions - cfg.n_out
    offsets = torch.arange(n_arg, device=device) * cfg.vocab, torch.arange(cfg.n_heads, device=device)
    mlp, unembed = model.blocks[0].mlp, model.unembed
    if folded.bag is not None and all(map(_unwatched, (mlp.fc_in, mlp.fc_out, unembed))):
        lanes = _lanes(folded, min(tokens.shape[0], ROWS), n_arg)
        parts = [_bagged(folded, *_attention(folded, t, offsets), lanes) for t in tokens.split(ROWS)]
    else:
        parts = [_unbagged(model, folded, *_attention(folded, t, offsets)) for t in tokens.split(ROWS)]
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def _attention(
    folded: Tables, tokens: torch.Tensor, offsets: tuple[torch.Tensor, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each row's value keys [batch, (argument, head)], attention weights [batch, args, h, q] and
    1 / softmax sum per (head, query) [batch, h, q]; `offsets`: each argument's first table row, and
    the heads."""
    positions, heads = offsets
    batch, (n_arg, h) = tokens.shape[0], (positions.shape[0], heads.shape[0])
    n_q = folded.own_sum.shape[0] // h
    slot = tokens[:, :n_arg] + positions  # [batch, args]
    factors = F.embedding(slot, folded.factors).view(batch, n_arg, h, n_q)
    scale = factors.sum(1).add_(folded.own_sum.view(h, n_q)).reciprocal_()  # [batch, h, q]
    weights = factors * scale.unsqueeze(1)  # [batch, args, h, q]
    keys = (slot.unsqueeze(2) * h + heads).view(batch, n_arg * h)
    return keys, weights, scale


def _unbagged(
    model: CircuitTransformer, folded: Tables, keys: torch.Tensor, weights: torch.Tensor, scale: torch.Tensor
) -> torch.Tensor:
    """The logits from the attention-only tables, then the MLP and the unembedding as modules."""
    batch, n_arg, h, n_q = weights.shape
    d, dtype = folded.resid.shape[1], folded.values.dtype
    mlp, unembed = model.blocks[0].mlp, model.unembed
    resid = _dense(scale.view(batch, -1).to(dtype), folded.own, folded.resid.view(-1))  # [batch, q·d]
    gathered = F.embedding(keys, folded.values)  # [batch, (argument, head), d]
    # a transposed left operand: faster than making the weights [batch, q, (key, head)] (measured)
    by_key = weights.to(dtype).view(batch, n_arg * h, n_q).transpose(1, 2)
    resid = resid.view(batch, n_q, d).baddbmm_(by_key, gathered).view(batch * n_q, d)
    hidden = linear(mlp.fc_in, model.blocks[0].ln2(resid), relu=True)
    out = linear(unembed, model.ln_final(linear(mlp.fc_out, hidden) + resid))
    return out.view(batch, n_q, -1)


def _lanes(folded: Tables, rows: int, n_arg: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The bag's index and weight buffers for up to `rows` rows, [rows, q, args·h + h + 1] each,
    their constant columns filled: each query's own and residual rows, and the residual's weight 1."""
    assert folded.bag_rows is not None
    n_q, n_keys = folded.bag_rows.shape[0], n_arg * (folded.bag_rows.shape[1] - 1)
    index = folded.bag_rows.new_empty(rows, n_q, n_keys + folded.bag_rows.shape[1])
    index[:, :, n_keys:] = folded.bag_rows
    sample = folded.factors.new_empty(index.shape)  # fp32: strided copies into bf16 were 2× slower
    sample[:, :, -1] = 1
    return index, sample


def _bagged(
    folded: Tables,
    keys: torch.Tensor,
    weights: torch.Tensor,
    scale: torch.Tensor,
    lanes: tuple[torch.Tensor, torch.Tensor],
) -> torch.Tensor:
    """The logits from `bag`: each (row, query)'s hidden pre-activations and residual logits as
    one weighted sum of its argument keys' rows, its own keys' rows (weight: the row's 1 / sum per
    head) and its residual row (weight 1). Against the attention-only tables then the MLP,
    1,024-row calls: seq6.rotate_left 1.36× fp32, 1.0× bf16; seq6.max 1.5×; mod97.add 1.1× fp32,
    1.2× bf16; color.succ 1.6× (issue 19, benchmarks/RESULTS.md). `lanes`: see `_lanes`."""
    assert folded.bag is not None and folded.readout is not None
    batch, n_arg, h, n_q = weights.shape
    n_keys = n_arg * h
    rows, sample = lanes[0][:batch], lanes[1][:batch]
    rows[:, :, :n_keys] = keys.unsqueeze(1)
    sample[:, :, :n_keys].unflatten(2, (n_arg, h)).copy_(weights.permute(0, 3, 1, 2))
    sample[:, :, n_keys:-1] = scale.transpose(1, 2)
    width = rows.shape[2]
    by_row = sample.view(-1, width).to(folded.bag.dtype)
    summed = F.embedding_bag(
        rows.view(-1, width), folded.bag, mode="sum", per_sample_weights=by_row
    )  # [batch·q, d_mlp + out_vocab]
    summed[:, : summed.shape[1] - folded.readout.shape[0]].relu_()  # the hidden units
    out = _dense(summed, folded.readout, None)
    return out.view(batch, n_q, -1)


def linear(module: nn.Module, x: torch.Tensor, relu: bool = False) -> torch.Tensor:
    """`module(x)` (then ReLU) for x [rows, in]; through `_dense` for a plain `nn.Linear`, else
    the module's own output, never changed in place (a hook on it may keep it)."""
    if type(module) is nn.Linear and _unwatched(module):
        return _dense(x, module.weight, module.bias, relu)
    y = module(x)
    return F.relu(y) if relu else y


def _dense(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, relu: bool = False
) -> torch.Tensor:
    """x @ weightᵀ + bias (then ReLU). On CPU without grad, oneDNN's fused linear: the same output
    to rounding (bit for bit at the seq6 MLP's shapes where measured; tests/learn/test_folded.py),
    2× faster than torch's fp32 addmm there and 1.3× in bf16 (issue 19). Where that op refuses
    (a build without it, an unsupported shape) F.linear runs, and raises its own error."""
    if ONEDNN is not None and x.device.type == "cpu" and not torch.is_grad_enabled():
        try:
            return ONEDNN(x, weight, bias, "relu" if relu else "none", [], "")
        except RuntimeError:
            pass
    y = F.linear(x, weight, bias)
    return y.relu_() if relu else y


def _unwatched(module: nn.Module) -> bool:
    return not (module._forward_hooks or module._forward_pre_hooks)


def _sources(model: CircuitTransformer) -> list[nn.Module]:
    """The modules the tables are made from."""
    layer = model.blocks[0]
    attn = layer.attn
    projections = [attn.q, attn.k, attn.v, attn.o, layer.mlp.fc_in, layer.mlp.fc_out, model.unembed]
    return [model.embed, model.pos_embed, layer.ln1, layer.ln2, model.ln_final, *projections]


def _same(
    kept: tuple[torch.Tensor, list[torch.Tensor]], queried: torch.Tensor, weights: list[torch.Tensor]
) -> bool:
    """Whether these query tokens and weights are, bit for bit, the ones the kept tables came from."""
    old_queried, old_weights = kept
    if old_queried.shape != queried.shape or not torch.equal(old_queried, queried):
        return False
    if len(old_weights) != len(weights):
        return False
    return all(
        a.dtype == b.dtype and a.device == b.device and a.shape == b.shape and torch.equal(a, b)
        for a, b in zip(old_weights, weights, strict=True)
    )


def _compute(model: CircuitTransformer, queried: torch.Tensor) -> Tables | None:
    """The tables from the weights as they are now (see `Tables`)."""
    cfg, layer = model.cfg, model.blocks[0]
    attn, device = layer.attn, queried.device
    n_q, h, dh, d = cfg.n_out, cfg.n_heads, cfg.d_head, cfg.d_model
    n_arg = cfg.n_positions - n_q
    positions = model.pos_embed(torch.arange(cfg.n_positions, device=device))
    resid = model.embed(queried) + positions[n_arg:]  # [q, d]
    every = model.embed(torch.arange(cfg.vocab, device=device))  # [vocab, d]
    keys = layer.ln1(torch.cat([(every[None] + positions[:n_arg, None]).reshape(-1, d), resid]))
    query = attn.q(keys[-n_q:]).reshape(n_q, h, dh).transpose(0, 1)  # [h, q, dh]
    fold = query @ attn.k.weight.reshape(h, dh, d) / math.sqrt(dh)  # [h, q, d]
    scores = (keys @ fold.permute(2, 0, 1).reshape(d, h * n_q)).float()  # [key, (h, q)]
    own_scores = scores[-n_q:].view(n_q, h, n_q)  # [own key, head, query]
    if cfg.causal:  # a query sees every argument, and the query positions up to its own
        later = torch.ones(n_q, n_q, dtype=torch.bool, device=device).tril(-1)
        own_scores.masked_fill_(later[:, None], float("-inf"))
    top = scores.amax(0)  # [(h, q)]
    if float((top - own_scores.diagonal(dim1=0, dim2=2).reshape(-1)).max().detach()) > SPREAD:
        return None
    factors = (scores - top).exp_()
    per_head = attn.v(keys).reshape(-1, h, dh)
    values = torch.einsum("khe,dhe->khd", per_head, attn.o.weight.reshape(d, h, dh)).reshape(-1, d)
    split = n_arg * cfg.vocab
    own_factors, own_values = factors[split:].view(n_q, h, n_q), values[split * h :].view(n_q, h, d)
    per_query = torch.einsum("khq,khd->hqd", own_factors, own_values.float())  # [h, q, d]
    diagonal = torch.eye(n_q, device=device)[None, :, :, None]  # [h, q (column), q (output), d]
    own = (per_query[:, None] * diagonal).reshape(h * n_q, n_q * d).T.contiguous().to(values.dtype)
    own_sum = own_factors.sum(0).view(-1)
    split_values = values[: split * h].contiguous()
    bag, bag_rows, readout = _through_mlp(model, split_values, per_query, resid)
    return Tables(resid, factors[:split], split_values, own_sum, own, bag, bag_rows, readout)


def _through_mlp(
    model: CircuitTransformer, values: torch.Tensor, per_query: torch.Tensor, resid: torch.Tensor
) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
    """`bag`, `bag_rows` and `readout` (see `Tables`), in fp32 then rounded to the model's dtype;
    all None unless the MLP and the unembedding are plain linear maps of the attention's residual."""
    layer, unembed = model.blocks[0], model.unembed
    fc_in, fc_out = layer.mlp.fc_in, layer.mlp.fc_out
    linears = all(type(m) is nn.Linear for m in (fc_in, fc_out, unembed))
    if not linears or type(layer.ln2) is not nn.Identity or type(model.ln_final) is not nn.Identity:
        return None, None, None
    h, n_q, d = per_query.shape
    through = torch.cat([fc_in.weight, unembed.weight]).float().T  # [d, d_mlp + out_vocab]
    biases = torch.cat([_bias(fc_in), unembed.weight.float() @ _bias(fc_out) + _bias(unembed)])
    rows = [values.float() @ through, (per_query.reshape(-1, d) @ through), resid.float() @ through + biases]
    first = values.shape[0] + torch.arange(h * n_q, device=resid.device).view(h, n_q).T  # own rows
    bag_rows = torch.cat(
        [first, (values.shape[0] + h * n_q + torch.arange(n_q, device=resid.device))[:, None]], 1
    )
    readout = unembed.weight.float() @ fc_out.weight.float()
    passed = torch.eye(unembed.out_features, device=resid.device)  # the residual's logits, as they are
    bag, hidden = torch.cat(rows), fc_in.out_features
    pad = -bag.shape[1] % BAG_COLUMNS  # zero columns: ReLU leaves them zero, the readout adds 0 × them
    bag = torch.cat([bag[:, :hidden], bag.new_zeros(bag.shape[0], pad), bag[:, hidden:]], 1)
    readout = torch.cat([readout, readout.new_zeros(readout.shape[0], pad), passed], 1)
    return bag.to(values.dtype), bag_rows, readout.to(values.dtype)


def _bias(module: nn.Linear) -> torch.Tensor:
    if module.bias is not None:
        return module.bias.float()
    return module.weight.new_zeros(module.out_features, dtype=torch.float32)
