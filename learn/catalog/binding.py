"""What ties a catalog record to its weights, checked whenever either is trusted.

A record names a circuit's signature, task and config; its blob is content-addressed, and its
safetensors header names its own task and config. `check_weights` holds them to each other — the
header's task and config are the record's, the tensor shapes are the config's, the config fits the
signature's token interface, and the signature is the task's — so a record pointed at another
circuit's genuine blob, a duplicated or edited manifest entry, or a config edited to other sizes is
refused by name instead of answering confidently wrong. It runs on register, import and every load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from circ.circuit.config import ModelConfig, check_size, parameter_shapes
from circ.circuit.interface import CircuitInterface
from circ.circuit.signature import parse_signature
from circ.circuit.weights import WeightsError, WeightsHeader, read_header
from circ.lang.errors import ConfigError
from circ.learn.catalog.records import CatalogError

if TYPE_CHECKING:
    from torch import nn


class Described(Protocol):
    name: str
    signature: str
    task: str
    config: dict


def check_weights(record: Described, data: bytes) -> WeightsHeader:
    """The header of `data`, after checking it is the weights `record` describes; else a
    `CatalogError` saying which field disagrees."""
    who = f"circuit {record.name!r}"
    try:
        header = read_header(data)
    except WeightsError as exc:
        raise CatalogError(f"{who}: {exc}") from None
    stored_task = header.metadata.get("task")
    if stored_task is None:
        raise CatalogError(f"{who}: its weights do not name the task they were trained on (metadata 'task')")
    if stored_task != record.task:
        raise CatalogError(
            f"{who}: the record says task {record.task!r}, its weights were trained on {stored_task!r}"
        )
    if header.config != record.config:
        raise CatalogError(
            f"{who}: the record's config differs from the config in its weights ({header.config})"
        )
    try:
        cfg = ModelConfig.from_dict(record.config)
        check_size(cfg)
        args, out = parse_signature(record.signature)
        cfg.check_interface(CircuitInterface(args, out))
    except ConfigError as exc:
        raise CatalogError(f"{who}: {exc}") from None
    expected = parameter_shapes(cfg)
    if header.shapes != expected:
        wrong = sorted(set(header.shapes) ^ set(expected)) or [
            k for k in expected if header.shapes[k] != expected[k]
        ]
        raise CatalogError(f"{who}: its tensors do not have the config's shapes (first: {wrong[0]})")
    _check_task_signature(record, who)
    return header


def _check_task_signature(record: Described, who: str) -> None:
    from circ.learn.data import task_from_key

    try:
        task = task_from_key(record.task)
    except ConfigError:
        return  # a task circ does not know (trained elsewhere): nothing more to compare
    if task.signature != record.signature:
        raise CatalogError(
            f"{who}: task {task.key} is {task.signature}, but the record says {record.signature}"
        )


def load_model(record: Described, data: bytes, device: str = "cpu") -> nn.Module:
    """A record's weights as an eval-mode `CircuitTransformer` (imports torch); name, task, config
    and shapes are checked against the record before anything is allocated."""
    from safetensors.torch import load

    from circ.learn.model import CircuitTransformer

    check_weights(record, data)
    model = CircuitTransformer(ModelConfig.from_dict(record.config))
    model.load_state_dict(load(data))
    return model.to(device).eval()
