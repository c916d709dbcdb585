"""`circ verify` as its list of stages: prove the contracts, check the circuits, property-test the
functions, then one verdict (DESIGN §6).

*certified*: every obligation is proved, every circuit has an exhaustive or bounds certificate of
100% for the weights and precision that run, and each circuit's task meets its contract on the whole
domain. *verified (sampled)*: the same, but some certificate or contract check saw only a sample.
*unproved*: nothing is wrong, but something could not be decided. Anything else has *failed*, and
the verdict says why.
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
        """Nothing was found wrong and everything was decided (`certified` or `verified (sampled)`)."""
        return not self.verdict.startswith(("failed", "unproved"))


def verify_program(
    checked: Checked,
    catalog: Catalog,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    examples: int = DEFAULT_EXAMPLES,
    seed: int = 0,
    device: str = "cpu",
    entry: str = "main",
    precision: str = "fp32",
) -> Report:
    """`precision`: what the circuits compute in; only certificates for it count, and the property
    tests run in it."""
    obligations = prove_program(checked, timeout)
    provider = CatalogProvider(catalog, device, precision)
    circuits = check_circuits(checked, catalog, provider, _calls(checked, entry), precision)
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
    """`failed: …` when something is wrong; `unproved: …` when nothing is wrong but something could
    not be decided; `verified (sampled)` when everything holds but some check saw only a sample;
    `certified` only when every check covered its whole domain."""
    failed, unproved, sampled = [], [], []
    refuted = sum(o.status == "refuted" for o in obligations)
    if refuted:
        failed.append(f"{refuted} obligation{'s' if refuted > 1 else ''} refuted")
    undecided = sum(o.status in ("unknown", "unproved") for o in obligations)
    if undecided:
        unproved.append(f"{undecided} obligation{'s' if undecided > 1 else ''} unproved")
    unavailable = [c.learned for c in circuits if c.unavailable]
    if unavailable:
        failed.append(f"circuit unavailable: {', '.join(unavailable)}")
    broken_tests = [p.function for p in properties if p.failure is not None]
    if broken_tests:
        failed.append(f"property tests failed in {', '.join(broken_tests)}")
    usable = [c for c in circuits if not c.unavailable]
    refused = [c for c in usable if c.certificate is None and c.refused]
    if refused:
        failed.append("; ".join(c.refused for c in refused))  # type: ignore[misc]
    uncertified = [c.learned for c in usable if c.certificate is None and not c.refused]
    if uncertified:
        failed.append(f"no certificate for {', '.join(uncertified)}")
    broken = [c.learned for c in usable if c.conforms is False]
    if broken:
        failed.append(f"the task of {', '.join(broken)} breaks its contract")
    unknown = [c.learned for c in usable if c.conformance is not None and c.conformance.status == "unknown"]
    if unknown:
        unproved.append(f"whether the task of {', '.join(unknown)} meets its contract")
    wrong = [c for c in usable if c.certificate is not None and c.certificate.accuracy < 1.0]
    if wrong:
        rates = ", ".join(f"{c.learned} {_accuracy(c)}" for c in wrong)
        where = f"; union bound on the program's error rate: {format_bound(bound, circuits)}" if bound else ""
        failed.append(f"circuits below 100%: {rates}{where}")
    sampled += [c.learned for c in usable if c.certificate is not None and c.certificate.sampled]
    sampled += [
        f"{c.learned}'s contract" for c in usable if c.conformance and c.conformance.status == "sampled"
    ]
    if failed:
        return "failed: " + "; ".join(failed + unproved)
    if unproved:
        return "unproved: " + "; ".join(unproved)
    if sampled:
        return "verified (sampled)"
    return "certified"


def _accuracy(c: CircuitCheck) -> str:
    cert = c.certificate
    assert cert is not None
    wrong = round((1 - cert.accuracy) * (cert.n_checked or cert.domain_size))
    where = "sampled inputs" if cert.sampled else "inputs"
    return f"{wrong:,} wrong of {cert.n_checked or cert.domain_size:,} {where}"


def format_bound(bound: float | None, circuits: list[CircuitCheck] | tuple[CircuitCheck, ...]) -> str:
    """The union bound as a reader should take it: exact when every circuit's certificate covers its
    whole domain, else a 95% upper bound for the sampled distributions — never a bare 0%."""
    if bound is None:
        return "unknown (a circuit has no certificate with a bound)"
    if all(c.certificate is not None and not c.certificate.sampled for c in circuits if not c.unavailable):
        return "0 (every call is exact on its whole domain)" if bound == 0 else f"{bound:.3g} (exact)"
    return f"≤ {bound:.2g} (95% upper bounds of sampled certificates, for their sampled distributions only)"
