"""Which parts of a circuit are kept: attention heads, MLP neurons and (optionally) single weights.

A pruned circuit keeps its `ModelConfig` shapes and has the removed parts' parameters set to zero, so
the runtime, the Triton weight packer and the catalog run it unchanged. Zeroing is exact removal: a
head whose q, k, v rows and o columns are zero writes nothing (its uniform pattern averages zero
values); a neuron whose fc_in row and bias are zero has ReLU(0) = 0 and its fc_out column is zero too.

Mean ablation removes a unit but keeps what it writes on average, folded into biases the model has:
a removed neuron's mean output goes into its layer's fc_out bias (exact for a constant); a removed
head of the last layer writes a constant c into the residual stream before the last MLP, which is
fc_in.bias += W_in c (what the MLP reads) and fc_out.bias += c (what the unembedding reads) — exact
without LayerNorm. Earlier layers' heads feed attention, which has no bias, so they are zeroed.
A removed unit's average contribution is often an offset the rest of the circuit relies on; keeping
it is what mean ablation in circuit discovery does (measured on mod97.add: 114 neurons kept with
means folded in, 117 with zeroing; benchmarks/RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from circ.circuit.config import ModelConfig

State = dict[str, torch.Tensor]


@dataclass(frozen=True, eq=False)
class KeepMask:
    heads: torch.Tensor  # bool [n_layers, n_heads]
    neurons: torch.Tensor  # bool [n_layers, d_mlp]
    weights: dict[str, torch.Tensor] | None = None  # bool, per parameter name (unstructured pruning)

    @classmethod
    def full(cls, cfg: ModelConfig) -> KeepMask:
        return cls(
            torch.ones(cfg.n_layers, cfg.n_heads, dtype=torch.bool),
            torch.ones(cfg.n_layers, cfg.d_mlp, dtype=torch.bool),
        )

    def without_heads(self, heads: list[tuple[int, int]]) -> KeepMask:
        mask = self.heads.clone()
        for layer, head in heads:
            mask[layer, head] = False
        return KeepMask(mask, self.neurons, self.weights)

    def without_neurons(self, neurons: list[tuple[int, int]]) -> KeepMask:
        mask = self.neurons.clone()
        for layer, neuron in neurons:
            mask[layer, neuron] = False
        return KeepMask(self.heads, mask, self.weights)

    def with_weights(self, weights: dict[str, torch.Tensor] | None) -> KeepMask:
        return KeepMask(self.heads, self.neurons, weights)

    def live_heads(self) -> list[tuple[int, int]]:
        return [(int(a), int(b)) for a, b in self.heads.nonzero().tolist()]

    def live_neurons(self) -> list[tuple[int, int]]:
        return [(int(a), int(b)) for a, b in self.neurons.nonzero().tolist()]


@dataclass(frozen=True, eq=False)
class Means:
    """Mean activations of every unit over a domain (for mean ablation)."""

    neurons: torch.Tensor  # [n_layers, d_mlp]: mean of blocks.L.mlp.hook_post over rows and positions
    heads: torch.Tensor  # [n_layers, n_heads, d_head]: mean of each head's output before W_O


def apply_mask(state: State, cfg: ModelConfig, mask: KeepMask, means: Means | None = None) -> State:
    """A copy of `state` with everything `mask` removes set to zero (and, given `means`, their mean
    output folded into biases where that is exact; see the module docstring)."""
    out = {k: v.detach().clone() for k, v in state.items()}
    dh = cfg.d_head
    for layer in range(cfg.n_layers):
        p = f"blocks.{layer}"
        if means is not None:
            _fold_means(out, state, cfg, mask, means, layer)
        for head in (~mask.heads[layer]).nonzero().flatten().tolist():
            rows = slice(head * dh, (head + 1) * dh)
            for name in ("q", "k", "v"):
                out[f"{p}.attn.{name}.weight"][rows] = 0
            out[f"{p}.attn.o.weight"][:, rows] = 0
        dead = ~mask.neurons[layer]
        out[f"{p}.mlp.fc_in.weight"][dead] = 0
        out[f"{p}.mlp.fc_in.bias"][dead] = 0
        out[f"{p}.mlp.fc_out.weight"][:, dead] = 0
    for name, keep in (mask.weights or {}).items():
        out[name] = out[name] * keep
    return out


def _fold_means(out: State, state: State, cfg: ModelConfig, mask: KeepMask, means: Means, layer: int) -> None:
    p = f"blocks.{layer}"
    w_out = state[f"{p}.mlp.fc_out.weight"]
    dead = ~mask.neurons[layer]
    out[f"{p}.mlp.fc_out.bias"] += w_out[:, dead] @ means.neurons[layer, dead]
    if layer != cfg.n_layers - 1 or cfg.layernorm:
        return
    dh = cfg.d_head
    c = torch.zeros(cfg.d_model)
    for head in (~mask.heads[layer]).nonzero().flatten().tolist():
        c += state[f"{p}.attn.o.weight"][:, head * dh : (head + 1) * dh] @ means.heads[layer, head]
    out[f"{p}.mlp.fc_in.bias"] += state[f"{p}.mlp.fc_in.weight"] @ c
    out[f"{p}.mlp.fc_out.bias"] += c


@torch.no_grad()
def mean_activations(model: torch.nn.Module, tokens: torch.Tensor, batch: int = 2048) -> Means:
    """Means over `tokens` (every position each layer computes) of neuron and head outputs."""
    cfg = model.cfg
    neurons = torch.zeros(cfg.n_layers, cfg.d_mlp, dtype=torch.float64)
    heads = torch.zeros(cfg.n_layers, cfg.n_heads, cfg.d_head, dtype=torch.float64)
    counts = [0] * cfg.n_layers
    handles = []
    for layer, block in enumerate(model.blocks):

        def on_z(_module, args, layer=layer):
            z = args[0]  # [batch, q_pos, d_model]
            heads[layer] += z.reshape(-1, cfg.n_heads, cfg.d_head).sum(0).double()
            counts[layer] += z.shape[0] * z.shape[1]

        def on_post(_module, _args, out, layer=layer):
            neurons[layer] += out.reshape(-1, cfg.d_mlp).sum(0).double()

        handles.append(block.attn.o.register_forward_pre_hook(on_z))
        handles.append(block.mlp.hook_post.register_forward_hook(on_post))
    try:
        for start in range(0, tokens.shape[0], batch):
            model(tokens[start : start + batch])
    finally:
        for handle in handles:
            handle.remove()
    n = torch.tensor(counts, dtype=torch.float64)
    return Means((neurons / n[:, None]).float(), (heads / n[:, None, None]).float())


@dataclass(frozen=True)
class Size:
    """How big a (possibly pruned) circuit is: its shape, and what of it is live."""

    n_params: int  # every parameter of the ModelConfig (what the runtime allocates)
    nonzero: int  # parameters that are not zero: the effective size
    heads: tuple[int, ...]  # live heads per layer
    neurons: tuple[int, ...]  # live neurons per layer
    n_heads: int
    d_mlp: int

    @property
    def sparsity(self) -> float:
        return 1 - self.nonzero / self.n_params

    def to_dict(self) -> dict[str, object]:
        return {
            "n_params": self.n_params,
            "nonzero_params": self.nonzero,
            "sparsity": round(self.sparsity, 6),
            "live_heads": list(self.heads),
            "n_heads": self.n_heads,
            "live_neurons": list(self.neurons),
            "d_mlp": self.d_mlp,
        }


def size_of(state: State, cfg: ModelConfig) -> Size:
    """Live heads and neurons are read off the weights: a unit is dead when all its weights are zero."""
    heads, neurons = [], []
    dh = cfg.d_head
    for layer in range(cfg.n_layers):
        p = f"blocks.{layer}"
        v, o = state[f"{p}.attn.v.weight"], state[f"{p}.attn.o.weight"]
        alive = [
            bool(v[h * dh : (h + 1) * dh].any() and o[:, h * dh : (h + 1) * dh].any())
            for h in range(cfg.n_heads)
        ]
        heads.append(sum(alive))
        w_in, b_in = state[f"{p}.mlp.fc_in.weight"], state[f"{p}.mlp.fc_in.bias"]
        w_out = state[f"{p}.mlp.fc_out.weight"]
        live = (w_in.any(1) | (b_in != 0)) & w_out.any(0)
        neurons.append(int(live.sum()))
    n_params = sum(t.numel() for t in state.values())
    nonzero = sum(int(t.count_nonzero()) for t in state.values())
    return Size(n_params, nonzero, tuple(heads), tuple(neurons), cfg.n_heads, cfg.d_mlp)


def prunable_weights(cfg: ModelConfig) -> list[str]:
    """Weight matrices unstructured pruning may thin out (biases and LayerNorms stay whole)."""
    names = ["embed.weight", "pos_embed.weight", "unembed.weight"]
    for layer in range(cfg.n_layers):
        p = f"blocks.{layer}"
        names += [f"{p}.attn.{n}.weight" for n in ("q", "k", "v", "o")]
        names += [f"{p}.mlp.fc_in.weight", f"{p}.mlp.fc_out.weight"]
    return names
