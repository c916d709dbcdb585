"""Neuron frequency clusters: how much of each MLP neuron's variance one frequency explains.

Nanda et al. 2023 find that a grokked neuron's activation over the (a, b) grid is, to a good
approximation, a degree-2 polynomial in cos/sin of one frequency k of a and of b. In the 2D Fourier
basis of the grid (fourier.py on each axis) that is the 8 components whose row and column
frequencies lie in {0, k}, except the constant (0, 0). A neuron's share for k is their energy over
its non-constant energy; its frequency is the k with the largest share, and it is *single-frequency*
when that share reaches `SINGLE_SHARE`. Unary circuits use the 1D analogue (frequency k's share).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from circ.learn.analyse.fourier import fourier_basis, frequency_of_row, n_frequencies
from circ.learn.analyse.grid import Grid

SINGLE_SHARE = 0.8


@dataclass(frozen=True)
class NeuronClusters:
    shares: np.ndarray  # [d_mlp, n_freq]: share of each neuron's variance in frequency k = 1 … n//2
    dead: np.ndarray  # [d_mlp] bool: constant on the grid (no variance to explain)

    @property
    def frequency(self) -> np.ndarray:
        """`[d_mlp]`: each neuron's best frequency (1-based)."""
        return self.shares.argmax(1) + 1

    @property
    def best_share(self) -> np.ndarray:
        return self.shares.max(1)

    def single(self, threshold: float = SINGLE_SHARE) -> np.ndarray:
        return (~self.dead) & (self.best_share >= threshold)

    def counts(self, threshold: float = SINGLE_SHARE) -> dict[int, int]:
        """Single-frequency neurons per frequency, largest cluster first."""
        freqs, n = np.unique(self.frequency[self.single(threshold)], return_counts=True)
        order = np.argsort(-n, kind="stable")
        return {int(freqs[i]): int(n[i]) for i in order}


@torch.no_grad()
def mlp_activations(model: torch.nn.Module, grid: Grid) -> torch.Tensor:
    """The last block's post-ReLU MLP activations at the read position: `[n^arity, d_mlp]`."""
    layer = len(model.blocks) - 1
    _, cache = model.run_with_cache(grid.tokens, all_positions=False)
    return cache[f"blocks.{layer}.mlp.hook_post"][:, -1].double()


def neuron_clusters(acts: torch.Tensor, grid: Grid) -> NeuronClusters:
    """Each neuron's variance split over frequencies, from its activations `[n^arity, d_mlp]` on `grid`."""
    n = grid.basis.n
    f = torch.from_numpy(fourier_basis(n).copy())
    freq_of = frequency_of_row(n)
    a = acts.reshape(*grid.shape, -1)
    if grid.arity == 1:
        energy = torch.einsum("ri,id->rd", f, a).pow(2).numpy()  # [n, d]
        per_freq = np.stack([energy[freq_of == k].sum(0) for k in range(1, n_frequencies(n) + 1)], 1)
        total = energy[1:].sum(0)
    else:
        energy = torch.einsum("ri,cj,ijd->rcd", f, f, a).pow(2).numpy()  # [n, n, d]
        rows = [freq_of == k for k in range(1, n_frequencies(n) + 1)]
        const = freq_of == 0
        per_freq = np.stack(
            [energy[np.ix_(r | const, r | const)].sum((0, 1)) - energy[0, 0] for r in rows], axis=1
        )
        total = energy.sum((0, 1)) - energy[0, 0]
    dead = total <= 1e-12 * max(float(total.max()), 1e-300)
    shares = np.where(dead[:, None], 0.0, per_freq / np.maximum(total, 1e-300)[:, None])
    return NeuronClusters(shares, dead)
