"""Where a circuit's weights sit in a packed buffer, and the tile sizes its kernels use.

Kernels read weights as ready-to-multiply `[in, out]` tiles with every dimension padded to a power
of two (and to at least 16 where it meets tl.dot, whose operands must be >= 16 wide). Padding is
zeros, so padded lanes of every activation stay exactly zero and need no masks. A program's circuits
share one buffer; each layout carries its `base` offset in it.

Order (each block a multiple of 16 elements, so every block starts aligned):

    embed [vp, dp] · pos [pp, dp] · per layer: ln1 w, b [dp] · q, k, v, o [dp, dp] · ln2 w, b [dp]
    · fc_in [dp, mp] · fc_in bias [mp] · fc_out [mp, dp] · fc_out bias [dp] · ln_final w, b [dp]
    · unembed [dp, vop]

LayerNorm slots exist (as zeros) in models without LayerNorm, so one layer has one size.
`blocks.layer` reads a layer in this order; `layer_parts` is the same order for the packer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from circ.circuit.config import ModelConfig

DOT_MIN = 16  # tl.dot: every operand dimension >= 16


def pow2(n: int, least: int = 1) -> int:
    return max(least, 1 << (n - 1).bit_length())


@dataclass(frozen=True)
class Layout:
    cfg: ModelConfig
    base: int = 0

    @property
    def vp(self) -> int:
        return pow2(self.cfg.vocab)

    @property
    def pp(self) -> int:
        return pow2(self.cfg.n_positions)

    @property
    def dp(self) -> int:
        return pow2(self.cfg.d_model, DOT_MIN)

    @property
    def mp(self) -> int:
        return pow2(self.cfg.d_mlp, DOT_MIN)

    @property
    def vop(self) -> int:
        return pow2(self.cfg.out_vocab, DOT_MIN)

    @property
    def embed(self) -> int:
        return self.base

    @property
    def pos(self) -> int:
        return self.embed + self.vp * self.dp

    @property
    def layers(self) -> int:
        return self.pos + self.pp * self.dp

    @property
    def layer_size(self) -> int:
        return sum(size for _, size in self.layer_parts())

    @property
    def final(self) -> int:
        return self.layers + self.cfg.n_layers * self.layer_size

    @property
    def unembed(self) -> int:
        return self.final + 2 * self.dp

    @property
    def size(self) -> int:
        return self.unembed + self.dp * self.vop - self.base

    def layer_parts(self) -> list[tuple[str, int]]:
        """One layer's blocks in buffer order: (parameter suffix, padded size)."""
        dp, mp = self.dp, self.mp
        return [
            ("ln1.weight", dp),
            ("ln1.bias", dp),
            ("attn.q.weight", dp * dp),
            ("attn.k.weight", dp * dp),
            ("attn.v.weight", dp * dp),
            ("attn.o.weight", dp * dp),
            ("ln2.weight", dp),
            ("ln2.bias", dp),
            ("mlp.fc_in.weight", dp * mp),
            ("mlp.fc_in.bias", mp),
            ("mlp.fc_out.weight", mp * dp),
            ("mlp.fc_out.bias", dp),
        ]

    def at(self, base: int) -> Layout:
        return Layout(self.cfg, base)

    def query_lines(self, rows: int) -> int:
        """Lines a row that a fused kernel's last layer runs: the outputs, padded to 2^k and so
        that `rows` of them meet tl.dot's minimum, never more than the row's positions."""
        return min(self.pp, pow2(self.cfg.n_out, -(-DOT_MIN // rows)))

    def constants(self) -> dict[str, int | float | bool]:
        """The constexpr arguments of `blocks.circuit` for this circuit."""
        cfg = self.cfg
        return {
            "PP": self.pp,
            "P": cfg.n_positions,
            "N_IN": cfg.n_positions - cfg.n_out,
            "D": cfg.d_model,
            "DP": self.dp,
            "MP": self.mp,
            "H": cfg.n_heads,
            "DH": cfg.d_head,
            "SCALE": 1 / math.sqrt(cfg.d_head),
            "VO": cfg.out_vocab,
            "VOP": self.vop,
            "L": cfg.n_layers,
            "LN": cfg.layernorm,
            "CAUSAL": cfg.causal,
            "EMBED": self.embed,
            "POS": self.pos,
            "LAYERS": self.layers,
            "LAYER_SIZE": self.layer_size,
            "FINAL": self.final,
            "UNEMBED": self.unembed,
        }
