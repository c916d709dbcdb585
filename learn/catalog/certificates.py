"""What a certificate says, exactly, and the checks that keep it from saying more (DESIGN §6.1).

A certificate holds for one set of weights (their sha256), one precision and one backend, by one
method: `exhaustive` (every input run), `bounds` (a sound proof over every input by bound
propagation) or `sampled` (seeded samples from named input distributions, disjoint from the training
data, each with its error count and a 95% Clopper–Pearson upper bound). Only the first two certify;
a sample never does, and its error bound is an upper bound for the distributions it names, nothing
else. Every certificate entering the catalog — computed here or imported — passes `check`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from circ.learn.catalog.records import CatalogError

METHODS = ("exhaustive", "bounds", "sampled")
PRECISIONS = ("fp32", "bf16")
BACKENDS = ("torch", "triton")
MAX_COUNTEREXAMPLES = 20  # a certificate keeps the first few; the accuracy says how many there were
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Sample:
    """One named input distribution of a sampled certificate."""

    name: str  # e.g. "uniform", "sparse1", "constant"
    n: int  # inputs checked (seeded draws, none of them training inputs; or the whole support)
    errors: int
    upper95: float  # 95% Clopper–Pearson upper bound on the error rate here (exact when `exhaustive`)
    exhaustive: bool = False  # the distribution's whole support was checked

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "n": self.n, "errors": self.errors, "upper95": self.upper95}
        return out | ({"exhaustive": True} if self.exhaustive else {})


@dataclass(frozen=True, kw_only=True)
class Certification:
    """What one certification run found, and exactly what it holds for."""

    method: str  # one of METHODS
    domain_size: int  # exact; a grid domain can exceed 64 bits
    n_checked: int | None  # inputs run (sampled), or covered (exhaustive, bounds); None: not recorded
    accuracy: float  # share of n_checked answered right
    weights_sha256: str | None  # the weights it was computed on; None: recorded before schema 3
    precision: str = "fp32"
    backend: str = "torch"
    min_margin: float | None = None  # smallest (right logit − best other logit) seen or proved
    seconds: float | None = None
    counterexamples: list[Any] = field(default_factory=list)  # at most MAX_COUNTEREXAMPLES
    samples: tuple[Sample, ...] = ()  # sampled: one per distribution
    uncovered: list[Any] = field(default_factory=list)  # bounds: input regions the proof could not close

    @property
    def sampled(self) -> bool:
        return self.method == "sampled"

    @property
    def certified(self) -> bool:
        """DESIGN §6: certified only when right on the entire domain, enumerated or proved."""
        complete = self.method == "exhaustive" or (self.method == "bounds" and not self.uncovered)
        return complete and self.accuracy == 1.0 and self.weights_sha256 is not None

    @property
    def error_bound(self) -> float | None:
        """An upper bound on the error rate: exact when the whole domain was covered, else the worst
        95% upper bound over the sampled distributions (None: no honest bound is recorded)."""
        if self.method == "exhaustive" or (self.method == "bounds" and not self.uncovered):
            return 1.0 - self.accuracy
        if self.samples:
            return max(s.upper95 for s in self.samples)
        return None

    def holds_for(self, weights_sha256: str, precision: str = "fp32", backend: str = "torch") -> bool:
        return (self.weights_sha256, self.precision, self.backend) == (weights_sha256, precision, backend)


@dataclass(frozen=True, kw_only=True)
class CertificateRecord(Certification):
    circuit: str
    version: int
    created: datetime
    id: int | None = None


def check(c: Certification, circuit_sha256: str | None = None) -> None:
    """Refuse a certificate that claims what it cannot: a `CatalogError` naming the field."""
    if c.method not in METHODS:
        raise CatalogError(f"method: must be one of {', '.join(METHODS)}, got {c.method!r}")
    if isinstance(c.domain_size, bool) or not isinstance(c.domain_size, int) or c.domain_size < 1:
        raise CatalogError(f"domain_size: must be a positive integer, got {c.domain_size!r}")
    n = c.n_checked
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= c.domain_size):
        raise CatalogError(f"n_checked: must be between 1 and domain_size={c.domain_size}, got {n!r}")
    if c.method == "sampled" and n is None:
        raise CatalogError("n_checked: a sampled certificate must say how many inputs it checked")
    if c.method == "exhaustive" and n not in (None, c.domain_size):
        raise CatalogError(f"n_checked: an exhaustive certificate checks all {c.domain_size}, got {n}")
    if not _finite(c.accuracy) or not 0.0 <= c.accuracy <= 1.0:
        raise CatalogError(f"accuracy: must be between 0 and 1, got {c.accuracy!r}")
    sha = c.weights_sha256
    if sha is not None and not (isinstance(sha, str) and _SHA256.fullmatch(sha)):
        raise CatalogError(f"weights_sha256: not a sha256 hex digest: {c.weights_sha256!r}")
    if circuit_sha256 is not None and c.weights_sha256 not in (None, circuit_sha256):
        raise CatalogError(
            f"weights_sha256: the certificate was computed on weights {str(c.weights_sha256)[:12]}…, "
            f"not this circuit's {circuit_sha256[:12]}…"
        )
    if c.precision not in PRECISIONS:
        raise CatalogError(f"precision: must be one of {', '.join(PRECISIONS)}, got {c.precision!r}")
    if c.backend not in BACKENDS:
        raise CatalogError(f"backend: must be one of {', '.join(BACKENDS)}, got {c.backend!r}")
    for name in ("min_margin", "seconds"):
        value = getattr(c, name)
        if value is not None and not _finite(value):
            raise CatalogError(f"{name}: must be a finite number, got {value!r}")
    if c.seconds is not None and c.seconds < 0:
        raise CatalogError(f"seconds: must be >= 0, got {c.seconds}")
    for i, s in enumerate(c.samples):
        where = f"samples[{i}]"
        if not isinstance(s.name, str) or not s.name:
            raise CatalogError(f"{where}.name: must be a non-empty string")
        if isinstance(s.n, bool) or not isinstance(s.n, int) or s.n < 1:
            raise CatalogError(f"{where}.n: must be a positive integer, got {s.n!r}")
        if isinstance(s.errors, bool) or not isinstance(s.errors, int) or not 0 <= s.errors <= s.n:
            raise CatalogError(f"{where}.errors: must be between 0 and n={s.n}, got {s.errors!r}")
        if not _finite(s.upper95) or not 0.0 <= s.upper95 <= 1.0 or (s.upper95 == 0 and not s.exhaustive):
            raise CatalogError(
                f"{where}.upper95: must be in (0, 1] (0 only for a whole support), got {s.upper95!r}"
            )
    if c.samples and c.method != "sampled":
        raise CatalogError(f"samples: only a sampled certificate has them, not a {c.method} one")
    if c.uncovered and c.method != "bounds":
        raise CatalogError("uncovered: only a bounds certificate has uncovered regions")
    for name in ("counterexamples", "uncovered"):
        try:
            json.dumps(getattr(c, name))
        except (TypeError, ValueError) as exc:
            raise CatalogError(f"{name}: not JSON ({exc})") from None


def samples_from_json(raw: Any, where: str = "samples") -> tuple[Sample, ...]:
    if raw in (None, ()):
        return ()
    if not isinstance(raw, list):
        raise CatalogError(f"{where}: must be a list")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) - {"exhaustive"} != {"name", "n", "errors", "upper95"}:
            raise CatalogError(f"{where}[{i}]: must have exactly name, n, errors, upper95 (and exhaustive)")
        out.append(
            Sample(item["name"], item["n"], item["errors"], item["upper95"], item.get("exhaustive") is True)
        )
    return tuple(out)


def _finite(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
