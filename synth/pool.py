"""Observational equivalence: of all the terms of one type that give the same values on every row
(examples and probes), the search keeps one, the first found (smallest), and among terms of one size
the most confident. Values are the learned circuits' outputs, so two programs are merged exactly
when the network computes the same thing on these inputs.
"""

from __future__ import annotations

import torch

from circ.lang import types as T
from circ.synth.terms import Term


class Pool:
    """The distinct values of one type found so far, grouped by the size of their terms."""

    def __init__(self, type_: T.Type, prune: bool = True) -> None:
        self.type = type_
        self.prune = prune
        self.terms: list[Term] = []
        self.keys: set[bytes] = set()
        self.by_size: dict[int, list[int]] = {}
        self._values: list[torch.Tensor] = []  # [rows, width] per term
        self._sure: list[torch.Tensor] = []  # [rows] per term
        self._stacked: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def __len__(self) -> int:
        return len(self.terms)

    def seen(self, key: bytes) -> bool:
        return self.prune and key in self.keys

    def add(self, term: Term, values: torch.Tensor, sure: torch.Tensor, key: bytes) -> None:
        self.keys.add(key)
        self.by_size.setdefault(term.size, []).append(len(self.terms))
        self.terms.append(term)
        self._values.append(values)
        self._sure.append(sure)

    def sizes(self, size: int) -> int:
        return len(self.by_size.get(size, ()))

    def stacked(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Values `[k, rows, width]` and confidences `[k, rows]` of the k terms of this size."""
        if size not in self._stacked:
            index = self.by_size[size]
            self._stacked[size] = (
                torch.stack([self._values[i] for i in index]),
                torch.stack([self._sure[i] for i in index]),
            )
        return self._stacked[size]

    def term(self, size: int, k: int) -> Term:
        return self.terms[self.by_size[size][k]]


def value_key(values: torch.Tensor, type_: T.Type) -> list[bytes]:
    """One hashable key per candidate from its values `[n, rows, width]` (16-bit leaves when the type's
    ranges allow: a 5-example grid key is then 250 bytes)."""
    leaves = T.parts(type_)
    small = all(leaf.low >= -(2**15) and leaf.high < 2**15 for leaf in leaves)
    flat = values.reshape(values.shape[0], -1).to(torch.int16 if small else torch.long)
    return [row.tobytes() for row in flat.contiguous().numpy()]
