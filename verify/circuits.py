"""The circuits a program uses, and how far each can be trusted: is it in the catalog, what does its
latest certificate say (DESIGN §6.1), and does the task it was certified against meet the contract
the proofs assumed of it?

The last check closes the chain: a certificate says circuit = task on the domain, the proofs say the
contracts compose; only if the task meets the declared contract do the two meet. It runs the task's
reference function on its whole domain when that is small, else on a seeded sample.

A program whose circuits are not all exact may still be mostly right: with error rate ε_c for a
circuit called k_c times, the union bound Σ k_c·ε_c bounds the chance that a run of the program meets
a wrong answer, when each call's inputs are spread over its circuit's domain as the certificate's were.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from circ.circuit.provider import CircuitProvider, CircuitUnavailable
from circ.lang import ast
from circ.lang.check import Checked
from circ.lang.errors import ConfigError
from circ.lang.evaluate import satisfied
from circ.lang.layout import format_value, unflatten
from circ.lang.scope import Symbol
from circ.learn.catalog import Catalog, CatalogError, CertificateRecord
from circ.learn.data import task_from_key
from circ.learn.data.domain import enumerate_inputs, sample_inputs

CONFORMANCE_LIMIT = 10**4  # tasks with at most this many inputs are checked against contracts on all
CONFORMANCE_SAMPLE = 2000


@dataclass(frozen=True)
class CircuitCheck:
    name: str  # as declared
    learned: str  # the catalog name
    calls: int  # calls in the entry function's graph
    certificate: CertificateRecord | None = None
    unavailable: str | None = None  # why the program cannot run it
    conformance: str = ""  # on which inputs the task meets the contract, or where it breaks it
    conforms: bool | None = None  # None: not checked (no task)

    @property
    def error_rate(self) -> float | None:
        return None if self.certificate is None else 1.0 - self.certificate.accuracy


def used_circuits(checked: Checked) -> list[Symbol]:
    """Every circuit some function calls or passes to a combinator, in declaration order."""
    found = {id(s): s for s in checked.callees.values() if s.kind == "circuit"}
    return sorted(found.values(), key=lambda s: (s.module, s.decl.span.line))


def check_circuits(
    checked: Checked, catalog: Catalog, provider: CircuitProvider, calls: Counter[str]
) -> list[CircuitCheck]:
    return [
        _check(symbol, catalog, provider, calls[symbol.decl.learned]) for symbol in used_circuits(checked)
    ]


def _check(symbol: Symbol, catalog: Catalog, provider: CircuitProvider, calls: int) -> CircuitCheck:
    learned, sig = symbol.decl.learned, symbol.signature
    try:
        provider.load(learned, tuple(t for _, t in sig.params), sig.result)
        certificate = catalog.latest_certificate(learned)
        task = catalog.get(learned).task
    except (CircuitUnavailable, CatalogError) as exc:
        return CircuitCheck(symbol.name, learned, calls, unavailable=str(exc))
    conforms, conformance = _conformance(symbol.decl, task)
    return CircuitCheck(symbol.name, learned, calls, certificate, None, conformance, conforms)


def _conformance(decl: ast.CircuitDecl, task_key: str) -> tuple[bool | None, str]:
    try:
        task = task_from_key(task_key)
    except ConfigError:
        return None, f"unknown task {task_key!r}"
    whole = task.domain_size <= CONFORMANCE_LIMIT
    inputs = (
        enumerate_inputs(task) if whole else sample_inputs(task, CONFORMANCE_SAMPLE, np.random.default_rng(0))
    )
    outputs = task(*inputs)
    for row in range(outputs.shape[0]):
        args = [unflatten(t, a[row].tolist()) for t, a in zip(task.arg_types, inputs, strict=True)]
        result = unflatten(task.out_type, outputs[row].tolist())
        if satisfied(decl, args, result) is False:
            shown = ", ".join(map(format_value, args))
            return False, f"{task.key} gives {decl.name}({shown}) = {format_value(result)}"
    return True, f"all {outputs.shape[0]:,} inputs" if whole else f"{outputs.shape[0]:,} sampled inputs"


def union_bound(circuits: list[CircuitCheck]) -> float | None:
    """Σ calls × error rate over the circuits (None when some circuit has no certificate)."""
    if any(c.error_rate is None for c in circuits):
        return None
    return sum(c.calls * c.error_rate for c in circuits)  # type: ignore[operator]
