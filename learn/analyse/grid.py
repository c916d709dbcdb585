"""Every input of a modular circuit laid out on its group's grid, for the measures that need them all.

For a binary task the grid is (i, j) over Z_n × Z_n in a basis's order, flattened row-major: input
(a, b) = (elements[i], elements[j]). For a unary task it is i over Z_n. In the discrete-log basis
the inputs with a 0 argument are not on the grid (0 has no logarithm); measures on the grid say so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from circ.learn.analyse.bases import Basis
from circ.learn.data.split import examples
from circ.learn.data.task import Task


@dataclass(frozen=True, eq=False)
class Grid:
    basis: Basis
    arity: int  # 1 or 2
    args: tuple[np.ndarray, ...]  # raw argument values, one [n^arity] array per argument
    tokens: torch.Tensor  # [n^arity, n_positions] model input
    labels: torch.Tensor  # [n^arity] target output token

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.basis.n,) * self.arity


def input_grid(task: Task, basis: Basis) -> Grid:
    """The grid of `task`'s inputs in `basis` (a unary or binary task over Mod[p] with n_out = 1)."""
    arity = len(task.arg_types)
    if arity not in (1, 2) or task.interface.n_out != 1:
        raise ValueError(f"{task.key}: the Fourier grid needs one or two Mod[p] arguments and one output")
    elements = np.array(basis.elements, dtype=np.int64)
    axes = np.meshgrid(*([elements] * arity), indexing="ij")
    args = tuple(axis.reshape(-1) for axis in axes)
    x, y = examples(task, [a[:, None] for a in args])
    return Grid(basis, arity, args, torch.from_numpy(x), torch.from_numpy(y[:, 0]))


@torch.no_grad()
def grid_logits(model: torch.nn.Module, grid: Grid) -> torch.Tensor:
    """`[n^arity, out_vocab]` logits at the read position (float64, for projections that must be exact)."""
    return model(grid.tokens, attn_impl="math")[:, 0].double()
