"""`ModelConfig`: every shape of a circuit transformer, frozen, stored as JSON beside its weights.

Torch-free so that the catalog, the kernel generator and `circ compile --emit kernels` can read a
circuit's sizes without importing torch; `circ.learn.model` builds the network from it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from circ.circuit.interface import CircuitInterface
from circ.lang.errors import ConfigError

# The interface fields: a config fits a circuit interface when these four agree.
_INTERFACE_FIELDS = ("vocab", "n_positions", "out_vocab", "n_out")


@dataclass(frozen=True)
class ModelConfig:
    vocab: int  # input vocabulary, separators included
    n_positions: int
    out_vocab: int
    n_out: int  # logits are read at the last n_out positions
    d_model: int = 128
    n_heads: int = 4
    d_mlp: int = 512
    n_layers: int = 1
    layernorm: bool = False  # the grokking models have none; it makes weights harder to read
    causal: bool = True  # True: decoder (causal mask); False: encoder (full attention)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("bool", bool):
                if not isinstance(value, bool):
                    raise ConfigError(f"model.{f.name}", f"must be true or false, got {value!r}")
            elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"model.{f.name}", f"must be a positive integer, got {value!r}")
        if self.d_model % self.n_heads:
            raise ConfigError("model.n_heads", f"must divide d_model={self.d_model}, got {self.n_heads}")
        if self.n_out > self.n_positions:
            raise ConfigError("model.n_out", f"must be <= n_positions={self.n_positions}, got {self.n_out}")
        for name in ("vocab", "out_vocab"):  # one token per value: a logit row per example and class
            if getattr(self, name) > MAX_VOCAB:
                message = f"must be at most {MAX_VOCAB:,} tokens (one per value), got {getattr(self, name):,}"
                raise ConfigError(f"model.{name}", message)

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads

    @classmethod
    def for_interface(cls, iface: CircuitInterface, **sizes: Any) -> ModelConfig:
        """The config whose vocab and positions fit a circuit interface; `sizes` set the rest."""
        return cls.from_dict({**_interface_sizes(iface), **sizes})

    def check_interface(self, iface: CircuitInterface) -> None:
        """Raise a `ConfigError` naming the first field that does not fit `iface`."""
        for key, value in _interface_sizes(iface).items():
            have = getattr(self, key)
            if have != value:
                raise ConfigError(f"model.{key}", f"the task needs {value}, the config has {have}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        if not isinstance(data, dict):
            raise ConfigError("model", f"must be an object of fields, got {type(data).__name__}")
        names = {f.name for f in fields(cls)}
        for key in data:
            if key not in names:
                raise ConfigError(f"model.{key}", f"no such field (fields: {', '.join(sorted(names))})")
        missing = [n for n in _INTERFACE_FIELDS if n not in data]
        if missing:
            raise ConfigError(f"model.{missing[0]}", "is required")
        return cls(**data)


def _interface_sizes(iface: CircuitInterface) -> dict[str, int]:
    return {
        "vocab": iface.in_vocab,
        "n_positions": iface.n_positions,
        "out_vocab": iface.out_vocab,
        "n_out": iface.n_out,
    }


MAX_VOCAB = 8192  # Mod[p] with p ≤ 8,191: p = 100,000 took 12.5 GB for two steps
MAX_PARAMETERS = 50_000_000  # a circuit is a tiny transformer; a config past this is a mistake or an attack


def parameter_shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """The tensors a circuit transformer with this config has, by name (circ.learn.model's layout),
    so weights can be checked against their config before anything is allocated."""
    d, m = cfg.d_model, cfg.d_mlp
    shapes: dict[str, tuple[int, ...]] = {
        "embed.weight": (cfg.vocab, d),
        "pos_embed.weight": (cfg.n_positions, d),
        "unembed.weight": (cfg.out_vocab, d),
    }
    for layer in range(cfg.n_layers):
        block = f"blocks.{layer}."
        for name in ("q", "k", "v", "o"):
            shapes[f"{block}attn.{name}.weight"] = (d, d)
        shapes[f"{block}mlp.fc_in.weight"] = (m, d)
        shapes[f"{block}mlp.fc_in.bias"] = (m,)
        shapes[f"{block}mlp.fc_out.weight"] = (d, m)
        shapes[f"{block}mlp.fc_out.bias"] = (d,)
        if cfg.layernorm:
            for norm in ("ln1", "ln2"):
                shapes[f"{block}{norm}.weight"] = (d,)
                shapes[f"{block}{norm}.bias"] = (d,)
    if cfg.layernorm:
        shapes["ln_final.weight"] = (d,)
        shapes["ln_final.bias"] = (d,)
    return shapes


def check_size(cfg: ModelConfig) -> None:
    """Refuse a config whose parameters would not fit `MAX_PARAMETERS` (before any allocation)."""
    total = sum(math.prod(shape) for shape in parameter_shapes(cfg).values())
    if total > MAX_PARAMETERS:
        raise ConfigError("model", f"has {total:,} parameters; circuits are limited to {MAX_PARAMETERS:,}")
