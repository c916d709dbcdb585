"""Where the runtime gets circuits: a name from `learned "…"` → a loaded, checked transformer.

The runtime depends only on this protocol; the catalog implements it, and so does a plain dict of
trained models (tests, notebooks). A provider must refuse a circuit whose stored signature does not
match the declaration rather than let the runtime decode its tokens as the wrong type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from circ.lang import types as T
from circ.learn.interface import CircuitInterface


class CircuitUnavailable(Exception):
    """A circuit cannot be used: missing, corrupted, or its signature differs from the declaration."""


@dataclass(frozen=True)
class LoadedCircuit:
    interface: CircuitInterface
    model: torch.nn.Module  # tokens [batch, n_positions] → logits [batch, n_out, out_vocab]


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
        have = f"({', '.join(map(str, interface.arg_types))}) -> {interface.out_type}"
        want = f"({', '.join(map(str, arg_types))}) -> {out_type}"
        raise CircuitUnavailable(f"circuit `{name}` was trained as {have}, but is declared {want}")
