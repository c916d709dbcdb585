"""The bounder for one-layer circuits without LayerNorm: exact attention tables + CROWN MLP."""

from __future__ import annotations

import torch

from circ.verify.bounds.attention import HeadTables, allowed_keys, first_layer_tables
from circ.verify.bounds.one_layer import margin_bounds
from circ.verify.bounds.weights import Weights


def exact_applies(w: Weights) -> bool:
    return w.cfg.n_layers == 1 and not w.cfg.layernorm


class ExactBounder:
    """Bounds one output position's margin over regions; caches the position's tables."""

    name = "exact attention + CROWN MLP"

    def __init__(self, w: Weights, n_in: int, query_token: int, alpha_steps: int) -> None:
        self.w, self.n_in, self.query, self.alpha_steps = w, n_in, query_token, alpha_steps
        self._tables: dict[int, HeadTables] = {}

    def _at(self, out: int) -> HeadTables:
        if out not in self._tables:
            self._tables[out] = first_layer_tables(self.w, self.n_in + out, self.query)
        return self._tables[out]

    def _allowed(self, out: int, regions: torch.Tensor) -> torch.Tensor:
        tables = self._at(out)
        fixed = {p: self.query for p in range(self.n_in, self.w.cfg.n_positions)}
        return allowed_keys(regions, tables.scores.shape[1], self.w.cfg.vocab, fixed)

    def bound(
        self, out: int, regions: torch.Tensor, targets: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """regions `[R, n_in, V]`, targets `[R]` → (margin lower bounds `[R]`, candidate
        counterexamples `[R, k, n_in]` tokens: each head's minimiser for the worst class)."""
        tables = self._at(out)
        mb = margin_bounds(self.w, tables, self._allowed(out, regions), targets, self.alpha_steps)
        lower, worst = mb.lower.min(dim=1)
        tokens = mb.tokens[torch.arange(regions.shape[0]), worst][..., : self.n_in]  # [R, H, n_in]
        return lower, tokens

    def split_position(self, out: int, region: torch.Tensor) -> tuple[int, list[int], list[int]]:
        """The free input position with the most leverage on the heads' mixture, and its allowed
        tokens split in two by attention score (the likely-attended ones apart from the rest)."""
        tables = self._at(out)
        allowed = self._allowed(out, region[None])[0]  # [P, V]
        s = tables.scores.masked_fill(~allowed, -torch.inf)  # [H, P, V]
        w = torch.exp(s - s.amax(dim=(1, 2), keepdim=True))
        off = ~allowed[None, :, :, None]
        high = tables.values.masked_fill(off, -torch.inf).amax(2)  # [H, P, dh]
        low = tables.values.masked_fill(off, torch.inf).amin(2)
        spread = (high - low).nan_to_num(0.0, posinf=0.0, neginf=0.0).norm(dim=-1)  # [H, P]
        lev = (w.amax(-1) * spread).sum(0)[: self.n_in]
        free = region.sum(-1) > 1
        lev = torch.where(free, lev, -torch.inf)
        pos = int(lev.argmax())
        tokens = torch.nonzero(region[pos]).flatten()
        order = tokens[torch.argsort(s[:, pos, tokens].amax(0), descending=True)].tolist()
        half = len(order) // 2
        return pos, order[:half], order[half:]
