"""Key frequencies: the few frequencies a sparse spectrum is made of.

Ranked by their share of the embedding's non-constant energy, a grokked circuit's frequencies fall
off a cliff after the last key one (mod97.sub: 13–22% each for 7 frequencies, then 0.4%). The key
set is the ranked prefix before the steepest such drop, the largest ratio between neighbours, taken
among the first third of the frequencies (at least 4) and only when that drop is at least `MIN_DROP`;
a flat spectrum (a memorised lookup: neighbours within ~10%) has none, and neither has one that is
only symmetric (mod97.sum_squares: every even discrete-log frequency, none of the odd ones).
"""

from __future__ import annotations

import numpy as np

from circ.learn.analyse.fourier import Spectrum

MIN_DROP = 2.0  # the drop after the last key frequency: at least halving the share


def key_frequencies(spec: Spectrum, min_drop: float = MIN_DROP) -> list[int]:
    """The key frequencies of `spec`, most energetic first (empty when there is no clear cliff)."""
    shares = np.sort(spec.shares)[::-1]
    if shares.size < 2 or shares[0] <= 0:
        return []
    limit = min(max(4, shares.size // 3), shares.size - 1)
    ratios = shares[:limit] / np.maximum(shares[1 : limit + 1], 1e-300)
    m = int(np.argmax(ratios))
    if ratios[m] < min_drop:
        return []
    return spec.ranked()[: m + 1]
