"""`circ verify` as its list of stages: prove the contracts, check the circuits, property-test the
functions, then one verdict (DESIGN §6).

*certified*: every obligation is proved and every circuit has a 100% certificate on its whole
domain. *verified (sampled)*: the same, but some certificate was computed on a sample of a domain
too large to enumerate. Anything else has *failed*, and the verdict says why.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from circ.compiler import nodes as N
from circ.compiler.lower import lower
from circ.lang.check import Checked
from circ.learn.catalog import Catalog
from circ.learn.catalog.provider import CatalogProvider
from circ.verify.circuits import CircuitCheck, check_circuits, union_bound
from circ.verify.properties import DEFAULT_EXAMPLES, PropertyResult, check_program
from circ.verify.prove import DEFAULT_TIMEOUT, Obligation, prove_program
from circ.verify.reference import ReferenceProvider


@dataclass(frozen=True)
class Report:
    path: str
    obligations: tuple[Obligation, ...]
    circuits: tuple[CircuitCheck, ...]
    properties: tuple[PropertyResult, ...]
    union_bound: float | None  # the entry function's error bound from its circuits' error rates
    verdict: str  # "certified" | "verified (sampled)" | "failed: …"
    sources: dict[str, str] = field(default_factory=dict)  # path → text, to show located messages

    @property
    def ok(self) -> bool:
        return not self.verdict.startswith("failed")


def verify_program(
    checked: Checked,
    catalog: Catalog,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    examples: int = DEFAULT_EXAMPLES,
    seed: int = 0,
    device: str = "cpu",
    entry: str = "main",
) -> Report:
    obligations = prove_program(checked, timeout)
    provider = CatalogProvider(catalog, device)
    circuits = check_circuits(checked, catalog, provider, _calls(checked, entry))
    properties = check_program(
        checked, provider, ReferenceProvider(catalog), examples=examples, seed=seed, device=device
    )
    bound = union_bound(circuits) if checked.function(entry) is not None else None
    verdict = _verdict(obligations, circuits, properties, bound)
    return Report(
        checked.program.root,
        tuple(obligations),
        tuple(circuits),
        tuple(properties),
        bound,
        verdict,
        dict(checked.program.sources),
    )


def _calls(checked: Checked, entry: str) -> Counter[str]:
    """Circuit calls per catalog name in the entry function's graph (none without an entry)."""
    if checked.function(entry) is None:
        return Counter()
    graph = lower(checked, entry)
    return Counter(attrs[N.CIRCUIT] for _, attrs in graph.nodes(data=True) if attrs[N.OP] == "circuit")


def _verdict(
    obligations: list[Obligation],
    circuits: list[CircuitCheck],
    properties: list[PropertyResult],
    bound: float | None,
) -> str:
    problems = []
    for status in ("refuted", "unknown"):
        n = sum(o.status == status for o in obligations)
        if n:
            problems.append(f"{n} obligation{'s' if n > 1 else ''} {status}")
    unavailable = [c.learned for c in circuits if c.unavailable]
    if unavailable:
        problems.append(f"circuit unavailable: {', '.join(unavailable)}")
    failed = [p.function for p in properties if p.failure is not None]
    if failed:
        problems.append(f"property tests failed in {', '.join(failed)}")
    uncertified = [c.learned for c in circuits if not c.unavailable and c.certificate is None]
    if uncertified:
        problems.append(f"no certificate for {', '.join(uncertified)}")
    broken = [c.learned for c in circuits if c.conforms is False]
    if broken:
        problems.append(f"the task of {', '.join(broken)} breaks its contract")
    inexact = [c for c in circuits if c.certificate is not None and c.certificate.accuracy < 1.0]
    if inexact:
        rates = ", ".join(f"{c.learned} {c.certificate.accuracy:.2%}" for c in inexact)  # type: ignore[union-attr]
        where = f"; union bound on the program's error rate: {bound:.2%}" if bound is not None else ""
        problems.append(f"circuits below 100%: {rates}{where}")
    if problems:
        return "failed: " + "; ".join(problems)
    if any(c.certificate is not None and c.certificate.sampled for c in circuits):
        return "verified (sampled)"
    return "certified"
