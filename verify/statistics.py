"""Honest numbers for samples: the exact (Clopper–Pearson) upper confidence bound on an error rate.

0 errors in n draws does not mean 0%: it bounds the rate by about 3/n at 95% (the "rule of three").
Bounds are one-sided, since the question is always "how wrong can it be at most".
"""

from __future__ import annotations

from scipy.stats import beta


def upper_bound(errors: int, n: int, confidence: float = 0.95) -> float:
    """The one-sided Clopper–Pearson upper bound on the error rate after `errors` in `n` draws."""
    if n < 1 or not 0 <= errors <= n:
        raise ValueError(f"need 0 <= errors <= n and n >= 1, got errors={errors}, n={n}")
    if errors == n:
        return 1.0
    return float(beta.ppf(confidence, errors + 1, n - errors))
