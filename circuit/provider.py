"""Where a runtime gets circuits: a name from `learned "…"` → a loaded, checked network.

The runtime depends only on this protocol; the catalog implements it (`circ.learn.catalog.provider`),
and so does a plain dict of trained models (tests, notebooks). A provider must refuse a circuit whose
stored signature does not match the declaration rather than let the runtime decode its tokens as the
wrong type. Torch-free: a loaded model is any callable from tokens to logits (an `nn.Module` in
practice), so this module can be imported where torch is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from circ.circuit.interface import CircuitInterface
from circ.circuit.signature import format_signature
from circ.lang import types as T
from circ.lang.errors import UserError


class CircuitUnavailable(UserError):
    """A circuit cannot be used: missing, corrupted, or its signature differs from the declaration."""


@dataclass(frozen=True)
class LoadedCircuit:
    interface: CircuitInterface
    model: Any  # torch.nn.Module: tokens [batch, n_positions] → logits [batch, n_out, out_vocab]


class CircuitProvider(Protocol):
    def load(self, name: str, arg_types: tuple[T.Type, ...], out_type: T.Type) -> LoadedCircuit: ...


class ModelsProvider:
    """Circuits held in memory, by catalog name."""

    def __init__(self, models: dict[str, LoadedCircuit]) -> None:
        self.models = models

    def load(self, name: str, arg_types: tuple[T.Type, ...], out_type: T.Type) -> LoadedCircuit:
        if name not in self.models:
            raise CircuitUnavailable(f"no circuit `{name}` is loaded")
        circuit = self.models[name]
        check_signature(name, circuit.interface, arg_types, out_type)
        return circuit


def check_signature(
    name: str, interface: CircuitInterface, arg_types: tuple[T.Type, ...], out_type: T.Type
) -> None:
    declared = CircuitInterface(tuple(arg_types), out_type)
    if declared != interface:
        have = format_signature(interface.arg_types, interface.out_type)
        raise CircuitUnavailable(
            f"circuit `{name}` was trained as {have}, but is declared {format_signature(arg_types, out_type)}"
        )
