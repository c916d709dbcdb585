"""The circuits a program uses, and how far each can be trusted: is it in the catalog, which of its
certificates hold for the weights that run (DESIGN §6.1: same sha256, precision and backend), and
does the task it was certified against meet the contract the proofs assumed of it (`conformance`)?

The last check closes the chain: a certificate says circuit = task on the domain, the proofs say the
contracts compose; only if the task meets the declared contract do the two meet.

A program whose circuits are not all exact may still be mostly right: with error bound ε_c for a
circuit called k_c times, the union bound Σ k_c·ε_c bounds the chance that a run of the program meets
a wrong answer — when each call's inputs come from the distributions its certificate sampled (a
sample's bound says nothing about inputs drawn otherwise).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from circ.circuit.provider import CircuitProvider, CircuitUnavailable
from circ.lang import ast
from circ.lang.check import Checked
from circ.lang.errors import ConfigError
from circ.lang.scope import Symbol
from circ.learn.catalog import Catalog, CatalogError, CertificateRecord
from circ.learn.data import task_from_key
from circ.verify.conformance import Conformance, conformance


@dataclass(frozen=True)
class CircuitCheck:
    name: str  # as declared
    learned: str  # the catalog name
    calls: int  # calls in the entry function's graph
    certificate: CertificateRecord | None = None  # the newest one that holds for the weights that run
    unavailable: str | None = None  # why the program cannot run it
    conformance: Conformance | None = None  # does its task meet the declared contract, and on what
    refused: str | None = None  # why a stored certificate does not count (computed on other weights)

    @property
    def conforms(self) -> bool | None:
        return None if self.conformance is None else self.conformance.conforms

    @property
    def error_rate(self) -> float | None:
        """An upper bound on how often a call errs (exact, or a sample's 95% bound); None: unknown."""
        return None if self.certificate is None else self.certificate.error_bound


def used_circuits(checked: Checked) -> list[Symbol]:
    """Every circuit some function calls or passes to a combinator, in declaration order."""
    found = {id(s): s for s in checked.callees.values() if s.kind == "circuit"}
    return sorted(found.values(), key=lambda s: (s.module, s.decl.span.line))


def check_circuits(
    checked: Checked,
    catalog: Catalog,
    provider: CircuitProvider,
    calls: Counter[str],
    precision: str = "fp32",
) -> list[CircuitCheck]:
    return [
        _check(symbol, catalog, provider, calls[symbol.decl.learned], precision)
        for symbol in used_circuits(checked)
    ]


def _check(
    symbol: Symbol, catalog: Catalog, provider: CircuitProvider, calls: int, precision: str
) -> CircuitCheck:
    learned, sig = symbol.decl.learned, symbol.signature
    try:
        provider.load(learned, tuple(t for _, t in sig.params), sig.result)
        record = catalog.get(learned)
        certificates = catalog.certificates(learned)
    except (CircuitUnavailable, CatalogError) as exc:
        return CircuitCheck(symbol.name, learned, calls, unavailable=str(exc))
    holding = [c for c in certificates if c.holds_for(record.weights_sha256, precision)]
    refused = None
    foreign = [c for c in certificates if c.weights_sha256 != record.weights_sha256]
    if foreign:
        refused = (
            f"a certificate of {learned} was computed on weights {str(foreign[-1].weights_sha256)[:12]}…, "
            f"not the ones that run ({record.weights_sha256[:12]}…): it does not count"
        )
    elif certificates and not holding:
        have = ", ".join(sorted({f"{c.precision} on {c.backend}" for c in certificates}))
        refused = f"the certificates of {learned} hold for {have}, not {precision} on torch"
    return CircuitCheck(
        symbol.name,
        learned,
        calls,
        holding[-1] if holding else None,
        None,
        _conformance(symbol.decl, record.task),
        refused,
    )


def _conformance(decl: ast.CircuitDecl, task_key: str) -> Conformance:
    try:
        task = task_from_key(task_key)
    except ConfigError:
        return Conformance("unknown", f"unknown task {task_key!r}")
    return conformance(decl, task)


def union_bound(circuits: list[CircuitCheck]) -> float | None:
    """Σ calls × error bound over the circuits (None when some circuit has none)."""
    if any(c.error_rate is None for c in circuits):
        return None
    return sum(c.calls * c.error_rate for c in circuits)  # type: ignore[operator]
