"""A run's own contract check: on every row, did the inputs meet the entry's `requires`, and does
the answer meet its `ensures`? `circ run` prints it per row and sums it up (`--strict` fails on it),
so a program run outside its contract, or a learned circuit answering against it, is never a quiet
answer. Evaluated on whole columns (`vectorized`), exact Python where a column could overflow."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from circ.lang import ast
from circ.lang import types as T
from circ.lang.evaluate import Undefined, evaluate, requires_hold
from circ.lang.layout import unflatten
from circ.verify import vectorized

HELD, REQUIRES_FAILED, ENSURES_FAILED, UNDEFINED, NONE = "held", "requires ✗", "ensures ✗", "undefined", "—"


@dataclass(frozen=True)
class RowContracts:
    """Per row, one of HELD, REQUIRES_FAILED (the entry promises nothing there), ENSURES_FAILED,
    UNDEFINED (an `ensures` has no value there, e.g. an index out of range) or NONE (no contract)."""

    status: list[str]

    def count(self, what: str) -> int:
        return sum(s == what for s in self.status)

    @property
    def broken(self) -> int:
        return self.count(REQUIRES_FAILED) + self.count(ENSURES_FAILED) + self.count(UNDEFINED)


def check_rows(
    decl: ast.FnDecl | ast.CircuitDecl,
    params: list[tuple[str, T.Type]],
    result: T.Type,
    inputs: list[torch.Tensor],
    output: torch.Tensor,
) -> RowContracts:
    rows = output.shape[0]
    if not decl.contracts:
        return RowContracts([NONE] * rows)
    requires = [c for c in decl.contracts if c.kind == "requires"]
    has_ensures = any(c.kind == "ensures" for c in decl.contracts)
    try:
        args = [vectorized.columns(t, x.cpu().numpy()) for (_, t), x in zip(params, inputs, strict=True)]
        out = vectorized.columns(result, output.cpu().numpy())
        held = np.ones(rows, dtype=bool)
        env = {p.name: a for p, a in zip(decl.params, args, strict=True)}
        for clause in requires:
            held &= vectorized.holds(clause.expr, env, rows)
        state = vectorized.satisfied(decl, args, out, rows) if has_ensures else np.full(rows, -1)
    except vectorized.TooWide:
        return _one_by_one(decl, params, result, inputs, output)
    labels = {1: HELD, 0: ENSURES_FAILED, -2: UNDEFINED, -1: HELD if requires else NONE}
    return RowContracts([labels[int(s)] if h else REQUIRES_FAILED for h, s in zip(held, state, strict=True)])


def _one_by_one(
    decl: ast.FnDecl | ast.CircuitDecl,
    params: list[tuple[str, T.Type]],
    result: T.Type,
    inputs: list[torch.Tensor],
    output: torch.Tensor,
) -> RowContracts:
    status = []
    for row in range(output.shape[0]):
        args = [unflatten(t, x[row].tolist()) for (_, t), x in zip(params, inputs, strict=True)]
        if requires_hold(decl, args) is False:  # a requires that fails or has no value
            status.append(REQUIRES_FAILED)
            continue
        env = {p.name: a for p, a in zip(decl.params, args, strict=True)}
        env["result"] = unflatten(result, output[row].tolist())
        ensures = [c for c in decl.contracts if c.kind == "ensures"]
        try:
            ok = all(evaluate(c.expr, env) is True for c in ensures)
            status.append((HELD if ok else ENSURES_FAILED) if ensures else HELD)
        except Undefined:
            status.append(UNDEFINED)
    return RowContracts(status)
