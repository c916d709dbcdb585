"""The bounder for any circuit (LayerNorm, several layers): the first layer's attention exactly per
coordinate, everything after it in interval arithmetic. Sound, but far looser than the one-layer
bounder: boxes lose the correlation between coordinates, and a later layer's scores depend on
every position, so its softmax is bounded from score intervals alone.
"""

from __future__ import annotations

import torch

from circ.verify.bounds import interval as iv
from circ.verify.bounds.attention import allowed_keys, first_layer_tables
from circ.verify.bounds.mixture import mixture_max, mixture_min
from circ.verify.bounds.weights import Layer, Weights


def _mlp(box: iv.Box, layer: Layer) -> iv.Box:
    x = iv.layernorm(box, layer.ln2) if layer.ln2 is not None else box
    hidden = iv.relu(iv.linear(x, layer.w1, layer.b1))
    return iv.add(box, iv.linear(hidden, layer.w2, layer.b2))


class IntervalBounder:
    name = "exact first-layer attention, then interval bounds"

    def __init__(self, w: Weights, n_in: int, query_token: int) -> None:
        self.w, self.n_in, self.query = w, n_in, query_token
        self.fixed = {p: query_token for p in range(n_in, w.cfg.n_positions)}

    def _first_at(self, regions: torch.Tensor, pos: int, token: int) -> iv.Box:
        """Residual box after layer 0 at `pos` holding `token`, over regions (whose `pos`, if an
        input, is already fixed to `token`)."""
        w, layer = self.w, self.w.layers[0]
        tables = first_layer_tables(w, pos, token)
        allowed = allowed_keys(regions, tables.scores.shape[1], w.cfg.vocab, self.fixed)[:, None]
        low, high = [], []
        for h in range(w.cfg.n_heads):
            values = tables.values[h].permute(2, 0, 1)  # [dh, P, V]
            low.append(mixture_min(values, tables.scores[h], allowed)[0])
            high.append(mixture_max(values, tables.scores[h], allowed)[0])
        z = (torch.cat(low, -1), torch.cat(high, -1))  # [R, d]
        resid = tables.resid.expand_as(z[0])
        return _mlp(iv.add((resid, resid), iv.linear(z, layer.wo)), layer)

    def _first_layer(self, regions: torch.Tensor, positions: list[int]) -> iv.Box:
        boxes_lo, boxes_hi = [], []
        for pos in positions:
            if pos >= self.n_in:
                lo, hi = self._first_at(regions, pos, self.query)
            else:  # the query's own token varies: one analysis per allowed token, then their union
                lo = hi = None
                for token in torch.nonzero(regions[:, pos].any(0)).flatten().tolist():
                    rows = torch.nonzero(regions[:, pos, token]).flatten()
                    sub = regions[rows].clone()
                    sub[:, pos] = False
                    sub[:, pos, token] = True
                    b_lo, b_hi = self._first_at(sub, pos, token)
                    if lo is None:
                        lo = torch.full((regions.shape[0], b_lo.shape[-1]), torch.inf, dtype=b_lo.dtype)
                        hi = torch.full_like(lo, -torch.inf)
                    lo[rows] = torch.minimum(lo[rows], b_lo)
                    hi[rows] = torch.maximum(hi[rows], b_hi)
            boxes_lo.append(lo)
            boxes_hi.append(hi)
        return torch.stack(boxes_lo, 1), torch.stack(boxes_hi, 1)  # [R, positions, d]

    def _later_layer(self, box: iv.Box, layer: Layer, query_from: int) -> iv.Box:
        cfg = self.w.cfg
        h, dh = cfg.n_heads, cfg.d_head
        x = iv.layernorm(box, layer.ln1) if layer.ln1 is not None else box
        xq = (x[0][:, query_from:], x[1][:, query_from:])
        q, k, v = iv.linear(xq, layer.wq), iv.linear(x, layer.wk), iv.linear(x, layer.wv)
        n_q, n_k = q[0].shape[1], k[0].shape[1]
        visible = torch.arange(n_k)[None, :] <= torch.arange(query_from, n_k)[:, None]
        if not cfg.causal:
            visible = torch.ones_like(visible)
        heads_lo, heads_hi = [], []
        for i in range(h):
            part = slice(i * dh, (i + 1) * dh)
            qi = (q[0][:, :, None, part], q[1][:, :, None, part])
            ki = (k[0][:, None, :, part], k[1][:, None, :, part])
            lo, hi = iv.dot(qi, ki)  # [R, Q, P]
            weights = iv.softmax_weights((lo * self.w.scale, hi * self.w.scale), visible)
            vi = tuple(t[:, None, :, part].expand(-1, n_q, -1, -1) for t in v)
            z_lo, z_hi = iv.mix(weights, vi)
            heads_lo.append(z_lo)
            heads_hi.append(z_hi)
        z = (torch.cat(heads_lo, -1), torch.cat(heads_hi, -1))
        resid = (box[0][:, query_from:], box[1][:, query_from:])
        return _mlp(iv.add(resid, iv.linear(z, layer.wo)), layer)

    def logits(self, regions: torch.Tensor) -> iv.Box:
        """Logit boxes `[R, n_out, out_vocab]` over each region."""
        cfg = self.w.cfg
        several = cfg.n_layers > 1
        positions = list(range(cfg.n_positions)) if several else list(range(self.n_in, cfg.n_positions))
        box = self._first_layer(regions, positions)
        for i, layer in enumerate(self.w.layers[1:], start=1):
            last = i == cfg.n_layers - 1
            box = self._later_layer(box, layer, self.n_in if last else 0)
        if self.w.ln_final is not None:
            box = iv.layernorm(box, self.w.ln_final)
        return iv.linear(box, self.w.unembed)

    def bound(
        self, out: int, regions: torch.Tensor, targets: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        lo, hi = self.logits(regions)
        rows = torch.arange(regions.shape[0])
        correct = lo[rows, out, targets]
        other = hi[:, out].scatter(1, targets[:, None], -torch.inf).amax(1)
        first = regions.to(torch.int8).argmax(-1)  # each position's first allowed token
        last = regions.shape[-1] - 1 - regions.flip(-1).to(torch.int8).argmax(-1)
        return correct - other, torch.stack([first, last], 1)

    def split_position(self, out: int, region: torch.Tensor) -> tuple[int, list[int], list[int]]:
        counts = region.sum(-1)
        pos = int(counts.argmax())
        tokens = torch.nonzero(region[pos]).flatten().tolist()
        half = len(tokens) // 2
        return pos, tokens[:half], tokens[half:]
