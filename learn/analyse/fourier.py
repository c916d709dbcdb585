"""The real Fourier basis of Z_n and the spectrum of a matrix whose rows are indexed by Z_n.

Nanda et al. 2023 read a grokked modular-addition model in this basis: its embedding, its neurons
and its logits are sparse in it, carried by a handful of *key frequencies*. The basis is
orthonormal, so a matrix's energy (sum of squares) splits exactly over its components:

    row 0           1/√n                          the constant ("DC")
    rows 2k−1, 2k   √(2/n)·cos(2πkx/n), √(2/n)·sin(2πkx/n)   frequency k = 1 … ⌊(n−1)/2⌋
    row n−1         (−1)^x/√n                     frequency n/2 (the Nyquist term; n even only)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from circ.lang.errors import ConfigError
from circ.learn.analyse.bases import Basis

MAX_MODULUS = 4096


@cache
def fourier_basis(n: int) -> np.ndarray:
    """`[n, n]`, one orthonormal basis vector per row, in the order of the module docstring."""
    if n > MAX_MODULUS:  # n² floats: p = 100,000 would be 80 GB
        raise ConfigError("p", f"Fourier analysis is limited to Mod[p] with p ≤ {MAX_MODULUS:,}, got {n:,}")
    x = np.arange(n)
    rows = [np.full(n, 1 / math.sqrt(n))]
    for k in range(1, (n - 1) // 2 + 1):
        rows.append(math.sqrt(2 / n) * np.cos(2 * np.pi * k * x / n))
        rows.append(math.sqrt(2 / n) * np.sin(2 * np.pi * k * x / n))
    if n % 2 == 0:
        rows.append(np.cos(np.pi * x) / math.sqrt(n))
    basis = np.stack(rows)
    basis.setflags(write=False)
    return basis


def frequency_of_row(n: int) -> np.ndarray:
    """`[n]`: the frequency each basis row carries (0 for the constant)."""
    return np.array([0] + [(i + 1) // 2 for i in range(1, n)])


def n_frequencies(n: int) -> int:
    return n // 2


@dataclass(frozen=True)
class Spectrum:
    """How a matrix's energy spreads over the frequencies of one basis."""

    basis: Basis
    energy: np.ndarray  # [n_freq + 1]: energy[0] the constant's, energy[k] frequency k's (cos + sin)
    component_norms: np.ndarray  # [n]: norm of each basis row's coefficients (Nanda's Gini input)

    @property
    def shares(self) -> np.ndarray:
        """`[n_freq]`: each frequency k = 1 … n//2's share of the non-constant energy."""
        total = self.energy[1:].sum()
        return self.energy[1:] / total if total > 0 else np.zeros(self.energy.size - 1)

    def ranked(self) -> list[int]:
        """Frequencies, most energetic first."""
        return [int(k) + 1 for k in np.argsort(-self.shares, kind="stable")]

    def frequencies_for(self, share: float) -> int:
        """How many frequencies (most energetic first) carry `share` of the non-constant energy."""
        cumulative = np.cumsum(np.sort(self.shares)[::-1])
        return int(np.searchsorted(cumulative, share - 1e-12) + 1)


def spectrum(rows: np.ndarray, basis: Basis) -> Spectrum:
    """The spectrum of `rows` `[tokens, d]` (an embedding or unembedding, one row per token) read in
    `basis`: the rows of the group's elements, in group order, projected on the Fourier basis."""
    w = np.asarray(rows, dtype=np.float64)[list(basis.elements)]  # [n, d]
    coef = fourier_basis(basis.n) @ w  # [n, d]
    sq = (coef**2).sum(axis=1)  # [n]
    energy = np.bincount(frequency_of_row(basis.n), weights=sq, minlength=n_frequencies(basis.n) + 1)
    return Spectrum(basis, energy, np.sqrt(sq))
