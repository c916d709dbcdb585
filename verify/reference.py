"""The reference semantics of a program: the same graph with every circuit replaced by the reference
function of the task it was trained on (as the catalog records it), so the compiled program can be
compared with what it should compute, row by row."""

from __future__ import annotations

import numpy as np
import torch

from circ.circuit.provider import CircuitUnavailable, LoadedCircuit, check_signature
from circ.lang import types as T
from circ.lang.errors import ConfigError
from circ.learn.catalog import Catalog, CatalogError
from circ.learn.data import task_from_key
from circ.learn.data.task import Task
from circ.learn.data.tokens import encode_outputs, split_args

CERTAIN = 50.0  # logit of the reference answer: softmax puts all but e^-50 of the mass on it


class TaskModel(torch.nn.Module):
    """A task's reference function behind a circuit's interface: tokens in, one-hot logits out."""

    def __init__(self, task: Task) -> None:
        super().__init__()
        self.task = task

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # [rows, n_positions] → [rows, n_out, vocab]
        iface = self.task.interface
        args = split_args(iface, tokens.cpu().numpy())
        answer = encode_outputs(iface, self.task(*args))  # [rows, n_out] tokens
        onehot = torch.nn.functional.one_hot(torch.from_numpy(np.asarray(answer)), iface.out_vocab)
        return (onehot.float() * CERTAIN).to(tokens.device)


class ReferenceProvider:
    """Circuits by catalog name → their tasks' reference functions."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def load(self, name: str, arg_types: tuple[T.Type, ...], out_type: T.Type) -> LoadedCircuit:
        try:
            task = task_from_key(self.catalog.get(name).task)
        except (CatalogError, ConfigError) as exc:
            raise CircuitUnavailable(f"no reference for circuit `{name}`: {exc}") from None
        check_signature(name, task.interface, arg_types, out_type)
        return LoadedCircuit(task.interface, TaskModel(task))
