"""Task families for the composed-vs-monolithic experiment (`circ experiment depth`).

`mod_affine_chain[p, d]`: `s ↦ a_i·s + y_i (mod p)` for i = 1…d, from `s = x`, with fixed multipliers
`a_i` and the offsets `y_i` as inputs: `(x, y_1, …, y_d) -> s_d`. The offsets are inputs because a
chain of affine maps with fixed constants is again one affine map of one input (97 inputs, whatever
d is): a model that sees only `x` can memorise it whole, or it cannot generalise at all to a token
whose embedding never trained. With the offsets as inputs, every step's input matters to the answer
and the domain is p^(d+1), so accuracy on unseen inputs says whether the d steps were learned.

`seq_max_tail[n, live]`, `seq_sum_tail[n, live]`: the max (sum mod 10) of a `Seq[Color, n]`, whose
sampled inputs (`Task.sampler`) have only their last `live` cells set and background 0 before them.
0 is the identity of both folds, so a padded short input has the answer of the short sequence: a
model built for length n and trained at `live` < n (the CLRS protocol: train small, test larger)
is tested on the same task at `live = n`, where positions that only ever held padding hold data.
The max's cells are drawn under a per-row cap (uniform in 0–9) so that every answer is common; on
uniform cells nine in ten sequences of 32 have max 9.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from circ.lang.errors import ConfigError
from circ.lang.types import COLOR, ModT, SeqT
from circ.learn.data.modular import DEFAULT_P, _check_p
from circ.learn.data.task import Family, Task, check_int

MAX_CHAIN = 16
N_COLOURS = 10


def multipliers(p: int, d: int) -> tuple[int, ...]:
    """The fixed multipliers a_1…a_d: nonzero mod p (so no step forgets its input), 2, 5, 8, … for p=97."""
    return tuple(2 + (3 * i) % (p - 2) for i in range(d))


def _affine_chain() -> Family:
    doc = "s ↦ a_i·s + y_i mod p for i = 1…d, fixed a_i, from s = x: (x, y_1, …, y_d) -> s_d"

    def build(p: int = DEFAULT_P, d: int = 2) -> Task:
        p, d = _check_p(p, False), check_int("d", d, 1, MAX_CHAIN)
        if p < 3:
            raise ConfigError("p", f"must be at least 3 for nonzero multipliers, got {p}")
        a = multipliers(p, d)

        def fn(x: np.ndarray, *ys: np.ndarray) -> np.ndarray:
            s = x
            for a_i, y in zip(a, ys, strict=True):
                s = (a_i * s + y) % p
            return s

        z = ModT(p)
        return Task("mod_affine_chain", (("p", p), ("d", d)), (z,) * (d + 1), z, fn, doc, depth=2 * d)

    return Family("mod_affine_chain", "modular", build, (("p", DEFAULT_P), ("d", 2)), doc)


def capped(n: int, cells: int, rng: np.random.Generator) -> np.ndarray:
    """Cells uniform in 0…c under a per-row cap c uniform in 0…9: the max is c nearly always."""
    cap = rng.integers(0, N_COLOURS, size=(n, 1))
    return np.floor(rng.random((n, cells)) * (cap + 1)).astype(np.int64)


def uniform(n: int, cells: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, N_COLOURS, size=(n, cells), dtype=np.int64)


def _tail(
    name: str, doc: str, fold: Callable[[np.ndarray], np.ndarray], draw: Callable[..., np.ndarray]
) -> Family:
    def build(n: int = 32, live: int = 8) -> Task:
        n = check_int("n", n, 1, 64)
        live = check_int("live", live, 1, n)

        def sampler(k: int, rng: np.random.Generator) -> list[np.ndarray]:
            out = np.zeros((k, n), dtype=np.int64)  # background 0 before the live cells
            out[:, n - live :] = draw(k, live, rng)
            return [out]

        return Task(name, (("n", n), ("live", live)), (SeqT(COLOR, n),), COLOR, fold, doc, sampler=sampler)

    return Family(name, "sequence", build, (("n", 32), ("live", 8)), doc)


FAMILIES = (
    _affine_chain(),
    _tail(
        "seq_max_tail",
        "the largest element; sampled with only the last `live` cells set (capped), 0 before",
        lambda x: x.max(axis=1),
        capped,
    ),
    _tail(
        "seq_sum_tail",
        "the sum mod 10; sampled with only the last `live` cells set (uniform), 0 before",
        lambda x: x.sum(axis=1) % N_COLOURS,
        uniform,
    ),
)
