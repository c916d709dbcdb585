"""One modular circuit's mechanism: spectra, key frequencies, neuron clusters and the ablations, with
a one-line headline for the catalog (`extraction` method "fourier").

The basis is the one the task's group lives in (token order for + and −, discrete-log order for ×
and ÷); for a task that is no group operation it is the basis in which the embedding is sparser.
"Fourier <operation>" is claimed only when the key frequencies alone (the restricted logits) still
give the right answer on at least `CLAIM_ACC` of the grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from circ.learn.analyse.bases import GROUP_TASKS, Basis, bases, modulus
from circ.learn.analyse.fourier import Spectrum, spectrum
from circ.learn.analyse.grid import Grid, grid_logits, input_grid
from circ.learn.analyse.key_frequencies import key_frequencies
from circ.learn.analyse.neurons import SINGLE_SHARE, NeuronClusters, mlp_activations, neuron_clusters
from circ.learn.analyse.restricted_loss import Ablation, ablate
from circ.learn.analyse.sparsity import gini
from circ.learn.data import Split, Task

CLAIM_ACC = 0.99
SYMMETRIC_SHARE = 0.9
OPERATIONS = {
    "mod_add": "addition",
    "mod_sub": "subtraction",
    "mod_mul": "multiplication",
    "mod_div": "division",
}


@dataclass(frozen=True, eq=False)
class FourierAnalysis:
    task: Task
    p: int
    basis: Basis  # the one the key frequencies, neurons and ablations are read in
    embed: dict[str, Spectrum]  # basis name → the embedding's spectrum
    unembed: dict[str, Spectrum]  # basis name → the unembedding's (output tokens 0…p−1)
    key_frequencies: list[int]
    neurons: NeuronClusters | None  # None without an MLP reading the grid
    ablation: Ablation | None  # None for a task that is no group operation

    def even_share(self) -> float | None:
        """The embedding's share of non-constant energy in even discrete-log frequencies: a function of
        x that only has those is one of x² (shifting the log by (p−1)/2 maps x to −x)."""
        spec = self.embed.get("dlog")
        if spec is None:
            return None
        return float(spec.shares[1::2].sum())

    @property
    def operation(self) -> str | None:
        return OPERATIONS.get(self.task.name)

    def headline(self) -> str:
        basis = "" if self.basis.name == "token" else f" in the {self.basis.describe()}"
        spec = self.embed[self.basis.name]
        n90 = spec.frequencies_for(0.9)
        n_freq = spec.shares.size
        if not self.key_frequencies:
            each = " / ".join(f"{s.frequencies_for(0.9)} ({s.basis.name})" for s in self.embed.values())
            text = f"no sparse Fourier structure: {each} of {n_freq} frequencies carry 90% of the embedding"
            even = self.even_share()
            if even is not None and even >= SYMMETRIC_SHARE:
                text += f"; symmetric under a ↔ −a ({even:.0%} of it in even discrete-log frequencies)"
            return text
        keys = " ".join(map(str, sorted(self.key_frequencies)))
        parts = []
        ab = self.ablation
        if self.operation and ab is not None and ab.restricted_acc >= CLAIM_ACC:
            parts.append(f"Fourier {self.operation}{basis}, key frequencies {keys}")
        elif ab is not None:
            parts.append(
                f"partly Fourier{basis}: key frequencies {keys} alone get {ab.restricted_acc:.0%} right"
            )
        else:
            parts.append(f"Fourier features{basis}, key frequencies {keys}")
        if self.neurons is not None:
            parts.append(f"{self.neurons.single().mean():.0%} of neurons single-frequency")
        parts.append(f"{n90} of {n_freq} frequencies for 90% of the embedding")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        def spec_json(s: Spectrum) -> dict[str, Any]:
            ranked = s.ranked()
            return {
                "basis": s.basis.name,
                "n": s.basis.n,
                "frequencies_for_90pct": s.frequencies_for(0.9),
                "gini": round(gini(s.component_norms), 4),
                "constant_share_of_energy": round(float(s.energy[0] / max(s.energy.sum(), 1e-300)), 4),
                "top": [[k, round(float(s.shares[k - 1]), 4)] for k in ranked[:10]],
                "shares": [round(float(x), 5) for x in s.shares],
            }

        out: dict[str, Any] = {
            "task": self.task.key,
            "p": self.p,
            "basis": self.basis.name,
            "basis_description": self.basis.describe(),
            "generator": self.basis.generator if self.basis.name == "dlog" else None,
            "key_frequencies": self.key_frequencies,
            "headline": self.headline(),
            "even_dlog_share": None if (even := self.even_share()) is None else round(even, 4),
            "embedding": {name: spec_json(s) for name, s in self.embed.items()},
            "unembedding": {name: spec_json(s) for name, s in self.unembed.items()},
        }
        if self.neurons is not None:
            nc = self.neurons
            single = nc.single()
            in_keys = np.isin(nc.frequency, self.key_frequencies) & single
            out["neurons"] = {
                "d_mlp": int(nc.shares.shape[0]),
                "single_frequency_threshold": SINGLE_SHARE,
                "single_frequency_share": round(float(single.mean()), 4),
                "single_frequency_in_key_share": round(float(in_keys.sum() / max(single.sum(), 1)), 4),
                "dead": int(nc.dead.sum()),
                "clusters": {str(k): v for k, v in nc.counts().items()},
                "best_share_quartiles": [
                    round(float(q), 3) for q in np.quantile(nc.best_share, [0.25, 0.5, 0.75])
                ],
            }
        if self.ablation is not None:
            ab = self.ablation
            out["ablation"] = {
                "grid": f"{self.basis.n}×{self.basis.n} inputs in the {self.basis.describe()}",
                "full_loss": round(ab.full_loss, 5),
                "restricted_loss": round(ab.restricted_loss, 5),
                "restricted_acc": round(ab.restricted_acc, 5),
                "excluded_loss": round(ab.excluded_loss, 5),
                "excluded_acc": round(ab.excluded_acc, 5),
                "excluded_on": ab.excluded_on,
                "chance_loss": round(ab.chance_loss, 5),
            }
        return out


def choose_basis(task: Task, embed: dict[str, Spectrum]) -> Basis:
    group = GROUP_TASKS.get(task.name)
    if group is not None and group[0] in embed:
        return embed[group[0]].basis
    return max(embed.values(), key=lambda s: gini(s.component_norms)).basis


def train_mask(grid: Grid, split: Split | None) -> torch.Tensor | None:
    """`[n²]`: which grid inputs are in the split's training set (None without a split)."""
    if split is None or grid.arity != 2:
        return None
    index = torch.from_numpy(grid.basis.index())
    a, b = split.train_x[:, 0], split.train_x[:, 1]
    ia, ib = index[a.clamp(max=index.numel() - 1)], index[b.clamp(max=index.numel() - 1)]
    keep = (ia >= 0) & (ib >= 0)
    mask = torch.zeros(grid.basis.n**2, dtype=torch.bool)
    mask[ia[keep] * grid.basis.n + ib[keep]] = True
    return mask


def analyse_fourier(
    task: Task,
    model: torch.nn.Module,
    split: Split | None = None,
    key_freqs: list[int] | None = None,
    with_neurons: bool = True,
) -> FourierAnalysis:
    """The analysis of a Mod[p] circuit; `key_freqs` overrides the ones found (to follow the final
    model's frequencies back through training, as Nanda et al. do)."""
    p = modulus(task)
    if p is None:
        raise ValueError(f"{task.key} has no Mod[p] arguments: no Fourier analysis")
    w_e = model.embed.weight.detach().double().numpy()[:p]
    w_u = model.unembed.weight.detach().double().numpy()
    embed = {b.name: spectrum(w_e, b) for b in bases(p)}
    unembed = {b.name: spectrum(w_u, b) for b in bases(p)} if w_u.shape[0] == p else {}
    basis = choose_basis(task, embed)
    keys = key_frequencies(embed[basis.name]) if key_freqs is None else list(key_freqs)
    grid = input_grid(task, basis) if task.interface.n_out == 1 else None
    neurons = ablation = None
    if grid is not None:
        neurons = neuron_clusters(mlp_activations(model, grid), grid) if with_neurons else None
        group = GROUP_TASKS.get(task.name)
        if group is not None and group[0] == basis.name and grid.arity == 2:
            ablation = ablate(grid_logits(model, grid), grid, keys, group[1], train_mask(grid, split))
    return FourierAnalysis(task, p, basis, embed, unembed, keys, neurons, ablation)
