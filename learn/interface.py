"""How a circuit with a given signature talks in tokens (DESIGN §3).

Layout of one example, `n_positions = n_in + n_out` tokens:

    [ arg₀ tokens | arg₁ tokens | … | `=` × n_out ]
      └────────────── n_in ─────────┘ └─ read ──┘

Arguments are concatenated in their `circ.lang.types.encoding` (token = value - low, row-major for
Seq/Grid/tuples). Each output token gets its own query position holding the separator `=` (the
grokking setup's `a b =`, generalised to multi-token outputs), so every output token is predicted in
one non-autoregressive pass and read at a fixed position. The input vocabulary is the widest argument
vocabulary plus `=` as its last id; the output vocabulary is the output type's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from circ.lang.types import Type, encoding, lows


@dataclass(frozen=True)
class CircuitInterface:
    """Token layout of a circuit `args -> out`; everything a runtime needs to feed and read one."""

    arg_types: tuple[Type, ...]
    out_type: Type

    @property
    def n_in(self) -> int:
        return sum(encoding(t).n_tokens for t in self.arg_types)

    @property
    def n_out(self) -> int:
        return encoding(self.out_type).n_tokens

    @property
    def n_positions(self) -> int:
        return self.n_in + self.n_out

    @property
    def in_vocab(self) -> int:
        """Argument token ids `0 … max_vocab-1`, then `=`."""
        return max(encoding(t).vocab_size for t in self.arg_types) + 1

    @property
    def query_token(self) -> int:
        return self.in_vocab - 1

    @property
    def out_vocab(self) -> int:
        return encoding(self.out_type).vocab_size

    @property
    def read_positions(self) -> tuple[int, ...]:
        return tuple(range(self.n_in, self.n_positions))

    def encode_inputs(self, args: list[np.ndarray]) -> np.ndarray:
        """Raw argument values (`[N, tokens_i]` each) → model input tokens `[N, n_positions]`."""
        n = args[0].shape[0]
        offsets = np.array([low for t in self.arg_types for low in lows(t)], dtype=np.int64)
        query = np.full((n, self.n_out), self.query_token, dtype=np.int64)
        return np.concatenate([*args, query], axis=1).astype(np.int64) - np.concatenate(
            [offsets, np.zeros(self.n_out, dtype=np.int64)]
        )

    def encode_outputs(self, out: np.ndarray) -> np.ndarray:
        """Raw output values `[N, n_out]` → target tokens `[N, n_out]`."""
        return out.astype(np.int64) - np.array(lows(self.out_type), dtype=np.int64)

    def decode_outputs(self, tokens: np.ndarray) -> np.ndarray:
        """Argmax tokens `[N, n_out]` → raw output values."""
        return tokens.astype(np.int64) + np.array(lows(self.out_type), dtype=np.int64)

    def split_args(self, inputs: np.ndarray) -> list[np.ndarray]:
        """Input tokens `[N, ≥n_in]` → raw argument values, one `[N, tokens_i]` array per argument."""
        out, at = [], 0
        for t in self.arg_types:
            k = encoding(t).n_tokens
            out.append(inputs[:, at : at + k] + np.array(lows(t), dtype=np.int64))
            at += k
        return out
