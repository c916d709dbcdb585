"""Exact QK attributions: why each head attends where it does, on one input.

A head's attention score from query position i to key position j is a bilinear form of the residual
stream, (LN(r_i) W_Qᵀ) · (LN(r_j) W_Kᵀ) / √d_head. With the LayerNorm scale frozen and r split into
the attribution graph's source streams (token embeddings, positional embeddings, features, errors,
bias), the score is exactly Σ_{s, s'} q_s · k_{s'}: one term per (query-side source, key-side source)
pair. For the key a head attends to most, this reports the largest terms of its score, and of its
lead over the runner-up key (which is what the softmax turns into attention). An LLM has too many
sources for the full table; a circuit has tens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from circ.learn.extract.attribution import Attribution
from circ.learn.model import CircuitTransformer


@dataclass(frozen=True)
class Term:
    query: str  # the query-side source stream
    key: str  # the key-side source stream
    value: float


@dataclass(frozen=True)
class HeadQK:
    layer: int
    head: int
    query_pos: int
    pattern: list[float]  # attention over key positions
    top_key: int
    score: float  # the pre-softmax score of top_key
    terms: list[Term]  # the largest terms of `score`
    runner_up: int | None
    lead: float  # score(top_key) − score(runner_up)
    lead_terms: list[Term]  # the largest terms of `lead`
    residual: float  # max |softmax(Σ terms) − pattern| over keys: how exactly the terms give the pattern

    def to_dict(self) -> dict[str, object]:
        def terms(ts: list[Term]) -> list[dict[str, object]]:
            return [{"query": t.query, "key": t.key, "value": round(t.value, 5)} for t in ts]

        return {
            "layer": self.layer,
            "head": self.head,
            "query_pos": self.query_pos,
            "pattern": [round(p, 5) for p in self.pattern],
            "top_key": self.top_key,
            "score": round(self.score, 5),
            "terms": terms(self.terms),
            "runner_up": self.runner_up,
            "lead": round(self.lead, 5),
            "lead_terms": terms(self.lead_terms),
            "residual": self.residual,
        }


def _top(matrix: torch.Tensor, names: list[str], n: int) -> list[Term]:
    flat = matrix.flatten()
    order = flat.abs().argsort(descending=True)[:n]
    size = matrix.shape[1]
    return [Term(names[int(i) // size], names[int(i) % size], float(flat[i])) for i in order if flat[i] != 0]


@torch.no_grad()
def qk_attributions(model: CircuitTransformer, att: Attribution, top: int = 5) -> list[HeadQK]:
    cfg = model.cfg
    n_pos = cfg.n_positions
    read = [p for p in range(n_pos) if p >= n_pos - cfg.n_out]
    out = []
    for layer, block in enumerate(model.blocks):
        stream = att.streams[layer]  # [S, pos, d_model]
        real = stream.sum(0)
        if isinstance(block.ln1, torch.nn.LayerNorm):
            sigma = (real.var(-1, unbiased=False, keepdim=True) + block.ln1.eps).sqrt()
            x = (stream - stream.mean(-1, keepdim=True)) / sigma * block.ln1.weight
            x[att.stream_names.index("bias")] += block.ln1.bias
        else:
            x = stream
        queries = read if layer == cfg.n_layers - 1 else range(n_pos)
        for head in range(cfg.n_heads):
            rows = slice(head * cfg.d_head, (head + 1) * cfg.d_head)
            q = x @ block.attn.q.weight[rows].T  # [S, pos, d_head]
            k = x @ block.attn.k.weight[rows].T
            for i in queries:
                pattern = att.patterns[layer][head, i]
                keys = range(i + 1) if cfg.causal else range(n_pos)
                table = {j: q[:, i] @ k[:, j].T / math.sqrt(cfg.d_head) for j in keys}  # [S, S] each
                scores = torch.tensor([float(table[j].sum()) for j in keys])
                ranked = pattern[list(keys)].argsort(descending=True).tolist()
                j1 = list(keys)[ranked[0]]
                j2 = list(keys)[ranked[1]] if len(ranked) > 1 else None
                recomputed = torch.softmax(scores, 0)
                residual = float((recomputed - pattern[list(keys)]).abs().max())
                lead = table[j1] - table[j2] if j2 is not None else torch.zeros_like(table[j1])
                out.append(
                    HeadQK(
                        layer,
                        head,
                        i,
                        pattern.tolist(),
                        j1,
                        float(table[j1].sum()),
                        _top(table[j1], att.stream_names, top),
                        j2,
                        float(lead.sum()),
                        _top(lead, att.stream_names, top),
                        residual,
                    )
                )
    return out
