"""Sparse transcoders: a dictionary of features that reads each MLP's input and writes its output.

One module holds a transcoder per layer (`cross_layer=False`, what circuit-tracer calls a per-layer
transcoder) or a cross-layer transcoder (`cross_layer=True`, Ameisen et al. 2025: the features read
at layer l write to the MLP outputs of every layer l' ≥ l). Per layer l, with SAELens' names and
shapes (`W_enc [d_in, d_sae]`, `W_dec [d_sae, d_out]`):

    f_l = σ(x_l @ W_enc[l] + b_enc[l])                        x_l: blocks.l's MLP input
    ŷ_l' = Σ_{l ≤ l'} f_l @ W_dec[l][:, l' - l] + b_dec[l']   ŷ_l': blocks.l'.hook_mlp_out

σ is ReLU (`standard`, trained with an L1 penalty) or `topk` (ReLU of the k largest pre-activations,
Gao et al. 2024). Input and output spaces differ, so unlike an SAE nothing is subtracted from the input.
A per-layer ReLU transcoder *is* an MLP of width d_sae (fc_in = W_encᵀ, b_enc; fc_out = W_decᵀ, b_dec),
which is how its replacement model becomes a circuit the runtime runs (`circ.learn.extract.replacement`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import torch
from safetensors.torch import load, save
from torch import nn

from circ.lang.errors import ConfigError

ARCHITECTURES = ("standard", "topk")
FORMAT = "circ.transcoder/1"


@dataclass(frozen=True)
class TranscoderConfig:
    n_layers: int
    d_in: int
    d_sae: int
    d_out: int
    architecture: str = "standard"
    k: int | None = None  # topk only: features kept per input position
    cross_layer: bool = False
    layernorm: bool = False  # the model's: then an MLP reads ln2's output, not the residual stream

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ConfigError(
                "architecture", f"must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}"
            )
        for name in ("n_layers", "d_in", "d_sae", "d_out"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(name, f"must be a positive integer, got {value!r}")
        if self.architecture == "topk":
            if not isinstance(self.k, int) or isinstance(self.k, bool) or not 1 <= self.k <= self.d_sae:
                raise ConfigError(
                    "k", f"a topk transcoder needs 1 <= k <= d_sae={self.d_sae}, got {self.k!r}"
                )
        elif self.k is not None:
            raise ConfigError("k", "only a topk transcoder has a k")

    def hook_name(self, layer: int) -> str:
        """What layer `layer`'s features read (TransformerLens names)."""
        return f"blocks.{layer}.ln2.hook_normalized" if self.layernorm else f"blocks.{layer}.hook_resid_mid"

    def hook_name_out(self, layer: int) -> str:
        return f"blocks.{layer}.hook_mlp_out"

    def targets(self, layer: int) -> int:
        """How many layers' outputs the features read at `layer` write to."""
        return self.n_layers - layer if self.cross_layer else 1


class Transcoders(nn.Module):
    def __init__(self, cfg: TranscoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        n = cfg.n_layers
        self.W_enc = nn.ParameterList(nn.Parameter(torch.empty(cfg.d_in, cfg.d_sae)) for _ in range(n))
        self.b_enc = nn.Parameter(torch.zeros(n, cfg.d_sae))
        self.W_dec = nn.ParameterList(
            nn.Parameter(torch.empty(cfg.d_sae, cfg.targets(layer), cfg.d_out)) for layer in range(n)
        )
        self.b_dec = nn.Parameter(torch.zeros(n, cfg.d_out))

    def init(self, seed: int) -> Transcoders:
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for w in self.W_enc:
                w.copy_(torch.randn(w.shape, generator=gen) / w.shape[0] ** 0.5)
            for w in self.W_dec:  # unit-norm decoder directions, as SAE training usually starts
                d = torch.randn(w.shape, generator=gen)
                w.copy_(d / d.norm(dim=-1, keepdim=True) / w.shape[1] ** 0.5)
        return self

    def pre_activations(self, layer: int, x: torch.Tensor) -> torch.Tensor:
        """x [..., d_in] → [..., d_sae]."""
        return x @ self.W_enc[layer] + self.b_enc[layer]

    def activate(self, pre: torch.Tensor) -> torch.Tensor:
        if self.cfg.architecture == "topk":
            top = pre.topk(self.cfg.k, dim=-1)
            return torch.zeros_like(pre).scatter(-1, top.indices, top.values.relu())
        return pre.relu()

    def encode(self, layer: int, x: torch.Tensor) -> torch.Tensor:
        return self.activate(self.pre_activations(layer, x))

    def decode(self, target: int, acts: dict[int, torch.Tensor]) -> torch.Tensor:
        """Layer `target`'s MLP output from the features of the layers in `acts` (each [..., pos, d_sae],
        aligned on the last positions: a layer that computes fewer positions gets the last ones)."""
        out = self.b_dec[target]
        sources = range(target + 1) if self.cfg.cross_layer else (target,)
        n_pos = acts[target].shape[-2]
        for layer in sources:
            f = acts[layer][..., acts[layer].shape[-2] - n_pos :, :]
            out = out + f @ self.W_dec[layer][:, target - layer]
        return out

    def decoder_norms(self, layer: int) -> torch.Tensor:
        """‖W_dec‖ per feature, over every layer it writes to: [d_sae]."""
        return self.W_dec[layer].flatten(1).norm(dim=1)

    def to_bytes(self, metadata: dict[str, str] | None = None) -> bytes:
        """Safetensors with tensors `blocks.{l}.W_enc` etc.; a per-layer W_dec is SAELens' [d_sae, d_out]."""
        tensors = {}
        for layer in range(self.cfg.n_layers):
            w_dec = self.W_dec[layer].detach()
            tensors[f"blocks.{layer}.W_enc"] = self.W_enc[layer].detach().contiguous()
            tensors[f"blocks.{layer}.b_enc"] = self.b_enc[layer].detach().contiguous()
            tensors[f"blocks.{layer}.W_dec"] = (w_dec if self.cfg.cross_layer else w_dec[:, 0]).contiguous()
            tensors[f"blocks.{layer}.b_dec"] = self.b_dec[layer].detach().contiguous()
        meta = {"format": FORMAT, "config": json.dumps(asdict(self.cfg), sort_keys=True), **(metadata or {})}
        return save(tensors, metadata=meta)

    @classmethod
    def from_bytes(cls, data: bytes) -> tuple[Transcoders, dict[str, str]]:
        meta = _metadata(data)
        if meta.get("format") != FORMAT:
            raise ConfigError("transcoder", f"not a circ transcoder (format {meta.get('format')!r})")
        cfg = TranscoderConfig(**json.loads(meta["config"]))
        tensors = load(data)
        module = cls(cfg)
        with torch.no_grad():
            for layer in range(cfg.n_layers):
                module.W_enc[layer].copy_(tensors[f"blocks.{layer}.W_enc"])
                module.b_enc[layer].copy_(tensors[f"blocks.{layer}.b_enc"])
                w_dec = tensors[f"blocks.{layer}.W_dec"]
                module.W_dec[layer].copy_(w_dec if cfg.cross_layer else w_dec[:, None])
                module.b_dec[layer].copy_(tensors[f"blocks.{layer}.b_dec"])
        return module.eval(), meta


def _metadata(data: bytes) -> dict[str, str]:
    try:
        size = int.from_bytes(data[:8], "little")
        return json.loads(data[8 : 8 + size]).get("__metadata__") or {}
    except (ValueError, TypeError):
        raise ConfigError("transcoder", "not a safetensors file") from None
