"""An adaptation as bytes for the catalog: the merged circuit's weights, and the adapter on its own.

The merged weights are a circuit file like any other (`circ.learn.model.save_weights`' format: the
config in the safetensors metadata), registered as a new catalog circuit. The adapter is kept as an
extraction artefact on the parent: peft's state dict (`base_model.model.….lora_A.weight`, as in
peft's `adapter_model.safetensors`) with its `LoraConfig` JSON (peft's `adapter_config.json`) and
its provenance in the metadata, so `load_adapter` + peft re-create the child from the parent.
"""

from __future__ import annotations

import json
from typing import Any

import torch
from safetensors.torch import load, save

from circ.lang.errors import ConfigError

ADAPTER_FORMAT = "circ-lora-adapter/1"


def adapter_bytes(adapter: dict[str, torch.Tensor], peft_config: str, provenance: dict[str, Any]) -> bytes:
    """An adapter's safetensors bytes; `peft_config` is the `LoraConfig` as JSON."""
    meta = {"format": ADAPTER_FORMAT, "peft_config": peft_config, "provenance": json.dumps(provenance)}
    return save({k: v.detach().cpu().contiguous() for k, v in adapter.items()}, metadata=meta)


def load_adapter(data: bytes) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any]]:
    """(adapter state dict, LoraConfig fields, provenance) from `adapter_bytes` output."""
    try:  # the safetensors header: an 8-byte little-endian length, then JSON with `__metadata__`
        size = int.from_bytes(data[:8], "little")
        meta = json.loads(data[8 : 8 + size]).get("__metadata__") or {}
    except (ValueError, AttributeError):
        meta = {}
    if meta.get("format") != ADAPTER_FORMAT:
        raise ConfigError("artefact", f"not a circ LoRA adapter (format {meta.get('format')!r})")
    return load(data), json.loads(meta["peft_config"]), json.loads(meta["provenance"])
