"""How a circuit with a given signature talks in tokens (DESIGN §3): the one token layout.

Layout of one example, `n_positions = n_in + n_out` tokens:

    [ arg₀ tokens | arg₁ tokens | … | `=` × n_out ]
      └────────────── n_in ─────────┘ └─ read ──┘

Each scalar leaf (`circ.lang.layout`) is one token, `value - low`, with arguments concatenated in
order (row-major for Seq/Grid/tuples). Each output token gets its own query position holding the
separator `=` (the grokking setup's `a b =`, generalised to multi-token outputs), so every output
token is predicted in one non-autoregressive pass and read at a fixed position. The input vocabulary
is the widest argument vocabulary plus `=` as its last id; the output vocabulary is the output type's.

Every encoder (numpy for data, torch for the runtime, generated Triton code) computes the same thing:
the raw leaves followed by `n_out` zeros, minus `shift` (each leaf's low end, then `-query_token`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from circ.lang import types as T


@dataclass(frozen=True)
class Encoding:
    """How a value type becomes circuit tokens: `n_tokens` positions over `vocab_size` ids."""

    n_tokens: int
    vocab_size: int


def encoding(t: T.Type) -> Encoding:
    """Tokens per value and the vocabulary they range over (the largest scalar leaf's)."""
    leaves = T.parts(t)
    return Encoding(len(leaves), max(leaf.size for leaf in leaves))


def lows(t: T.Type) -> list[int]:
    """Per-token offsets: token = leaf value - low."""
    return [leaf.low for leaf in T.parts(t)]


@dataclass(frozen=True)
class CircuitInterface:
    """Token layout of a circuit `args -> out`; everything a runtime needs to feed and read one."""

    arg_types: tuple[T.Type, ...]
    out_type: T.Type

    @cached_property
    def in_lows(self) -> tuple[int, ...]:
        """The low end of every argument leaf, in input-position order."""
        return tuple(low for t in self.arg_types for low in lows(t))

    @cached_property
    def out_lows(self) -> tuple[int, ...]:
        """The low end of every output leaf: value = argmax token + low."""
        return tuple(lows(self.out_type))

    @property
    def n_in(self) -> int:
        return len(self.in_lows)

    @property
    def n_out(self) -> int:
        return len(self.out_lows)

    @property
    def n_positions(self) -> int:
        return self.n_in + self.n_out

    @cached_property
    def in_vocab(self) -> int:
        """Argument token ids `0 … max_vocab-1`, then `=`."""
        return max((encoding(t).vocab_size for t in self.arg_types), default=0) + 1

    @property
    def query_token(self) -> int:
        return self.in_vocab - 1

    @property
    def out_vocab(self) -> int:
        return encoding(self.out_type).vocab_size

    @property
    def read_positions(self) -> tuple[int, ...]:
        return tuple(range(self.n_in, self.n_positions))

    @cached_property
    def shift(self) -> tuple[int, ...]:
        """tokens = [argument leaves…, 0 × n_out] − shift: leaves lose their low end, the zeros
        after them become the `=` query token."""
        return (*self.in_lows, *(-self.query_token for _ in range(self.n_out)))
