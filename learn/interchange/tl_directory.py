"""A catalogued circuit as a TransformerLens directory, and such a directory as a catalogued circuit.

The directory (`circ catalog export CIRCUIT --format transformer-lens DIR`):

    config.json        HookedTransformerConfig(**json.load(...)) — the architecture
    model.safetensors  HookedTransformer(cfg).load_state_dict(safetensors.torch.load_file(...))
                       (parameters and TL's attention buffers, as the installed TL version has them)
    circ.json          the circuit: name, version, task, signature, contract, and its token
                       interface (what goes in at which position, which positions' logits are read)

Importing a directory circ exported returns the catalogued circuit when the tensors are unchanged
(bit for bit) rather than registering a copy.

Back (`circ catalog add --from transformer-lens DIR`): `config.json` plus `model.safetensors` (or a
`model.pt` state dict, read with `weights_only=True`); `circ.json` when circ wrote the directory,
else the caller names the task (and so the token interface) the model was trained on. Everything
is checked before anything is registered: the config (`transformer_lens.from_tl_config`), every
tensor's shape, the biases circ cannot hold, and the vocabularies and positions against the task.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load, save

from circ.circuit.config import ModelConfig
from circ.circuit.weights import read_header
from circ.learn.atomic import write_atomic
from circ.learn.catalog import Catalog, CatalogError, CircuitRecord
from circ.learn.data import Task, task_from_key
from circ.learn.interchange.transformer_lens import (
    InterchangeError,
    from_tl,
    from_tl_config,
    hooked_transformer,
    tl_config,
)
from circ.learn.model import CircuitTransformer, weight_bytes

CONFIG, WEIGHTS, TORCH_WEIGHTS, CIRCUIT = "config.json", "model.safetensors", "model.pt", "circ.json"


@dataclass(frozen=True)
class TLDirectory:
    config: dict[str, Any]  # HookedTransformerConfig fields
    state: dict[str, torch.Tensor]  # TransformerLens names
    circuit: dict[str, Any] | None  # circ.json, when circ wrote the directory


def export_transformer_lens(catalog: Catalog, ref: str, directory: str | Path) -> CircuitRecord:
    """Write `ref` as a TransformerLens directory (needs the `tl` extra); see the module docstring."""
    record = catalog.get(ref)
    data = catalog.load_weights(record.ref)
    header = read_header(data)
    cfg = ModelConfig.from_dict(header.config)
    model = hooked_transformer(cfg, load(data))  # loaded strictly: what a TL user will do
    task = task_from_key(record.task)
    iface = task.interface
    circuit = {
        "name": record.name,
        "version": record.version,
        "task": record.task,
        "signature": record.signature,
        "contract": record.contract,
        "weights_sha256": record.weights_sha256,
        "interface": {
            "n_in": iface.n_in,
            "n_out": iface.n_out,
            "query_token": iface.query_token,
            "token_shift": list(iface.shift),
            "read_positions": list(iface.read_positions),
            "layout": "tokens = [argument leaves - their low, then the query token × n_out]; "
            "answer = argmax(logits[:, -n_out:]) + out_lows",
            "out_lows": list(iface.out_lows),
        },
        "transformer_lens": _tl_version(),
    }
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / WEIGHTS, save({k: v.contiguous() for k, v in model.state_dict().items()}))
    write_atomic(out / CONFIG, json.dumps(tl_config(cfg, record.ref), indent=1).encode())
    write_atomic(out / CIRCUIT, json.dumps(circuit, indent=1).encode())  # last: a complete directory has it
    return record


def read_transformer_lens(directory: str | Path) -> TLDirectory:
    d = Path(directory)
    if not (d / CONFIG).is_file():
        raise InterchangeError("directory", f"{d}: no {CONFIG} (a TransformerLens config as JSON)")
    config = _json(d / CONFIG)
    if (d / WEIGHTS).is_file():
        try:
            state = load((d / WEIGHTS).read_bytes())
        except Exception as exc:  # safetensors raises its own error types for a damaged file
            raise InterchangeError("directory", f"{d / WEIGHTS}: not a safetensors file ({exc})") from None
    elif (d / TORCH_WEIGHTS).is_file():
        try:
            state = torch.load(d / TORCH_WEIGHTS, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise InterchangeError("directory", f"{d / TORCH_WEIGHTS}: not a state dict ({exc})") from None
    else:
        raise InterchangeError("directory", f"{d}: no {WEIGHTS} or {TORCH_WEIGHTS}")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InterchangeError("directory", f"{d}: the weights are not a state dict of tensors")
    circuit = _json(d / CIRCUIT) if (d / CIRCUIT).is_file() else None
    return TLDirectory(config, state, circuit)


def circuit_from_transformer_lens(
    found: TLDirectory, task: Task
) -> tuple[ModelConfig, dict[str, torch.Tensor]]:
    """The circuit config and weights of a TL model trained on `task`'s token interface."""
    iface = task.interface
    cfg = from_tl_config(found.config, iface.n_out)
    for field, have, need in (
        ("d_vocab", cfg.vocab, iface.in_vocab),
        ("n_ctx", cfg.n_positions, iface.n_positions),
        ("d_vocab_out", cfg.out_vocab, iface.out_vocab),
    ):
        if have != need:
            raise InterchangeError(
                f"config.{field}", f"{task.key} ({task.signature}) needs {need}, got {have}"
            )
    state = from_tl(found.state, cfg)
    CircuitTransformer(cfg).load_state_dict(state, strict=True)  # every circuit tensor, right shapes
    return cfg, state


def add_from_transformer_lens(
    catalog: Catalog,
    directory: str | Path,
    *,
    name: str | None = None,
    task: str | None = None,
    contract: str | None = None,
) -> CircuitRecord:
    """Register a TransformerLens directory as a circuit. `name`, `task` and `contract` default to
    circ.json's; without one, `task` and `name` are required."""
    found = read_transformer_lens(directory)
    meta = found.circuit or {}
    task_key = task or meta.get("task")
    if not task_key:
        raise InterchangeError("task", f"{directory} has no {CIRCUIT}: name the task the model computes")
    name = name or meta.get("name")
    if not name:
        raise InterchangeError("name", f"{directory} has no {CIRCUIT}: give the circuit a name")
    the_task = task_from_key(task_key)
    cfg, state = circuit_from_transformer_lens(found, the_task)
    same = _unchanged(catalog, meta, state, the_task) if name == meta.get("name") else None
    if same is not None:  # an export of this very circuit coming back: nothing to register
        return same
    if contract is None:
        contract = meta.get("contract") if meta.get("task") == the_task.key else None
    if contract is None:
        contract = next((c.contract for c in catalog.circuits() if c.task == the_task.key and c.contract), "")
    data = weight_bytes(state, cfg, {"task": the_task.key, "source": "transformer-lens"})
    return catalog.register_circuit(name, the_task.signature, contract, the_task.key, None, data)


def _unchanged(
    catalog: Catalog, meta: dict[str, Any], state: dict[str, torch.Tensor], task: Task
) -> CircuitRecord | None:
    """The circuit circ.json names, if it is catalogued with exactly these tensors and task."""
    try:
        record = catalog.get(f"{meta['name']}@{int(meta['version'])}")
    except (KeyError, TypeError, ValueError, CatalogError):
        return None
    if record.weights_sha256 != meta.get("weights_sha256") or record.task != task.key:
        return None
    have = load(catalog.load_weights(record.ref))
    same = have.keys() == state.keys() and all(torch.equal(have[k], state[k]) for k in state)
    return record if same else None


def _json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InterchangeError("directory", f"{path}: not readable JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InterchangeError("directory", f"{path}: must hold a JSON object")
    return value


def _tl_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("transformer-lens")
    except PackageNotFoundError:
        return None
