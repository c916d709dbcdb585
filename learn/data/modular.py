"""Modular arithmetic over `Mod[p]`: the grokking list (Power et al. 2022) plus unary helpers."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from circ.lang.errors import ConfigError
from circ.lang.types import BOOL, ModT
from circ.learn.data.task import Family, Task, check_int

DEFAULT_P = 97  # the grokking papers' prime


def _is_prime(p: int) -> bool:
    return p >= 2 and all(p % d for d in range(2, int(p**0.5) + 1))


def _check_p(p: object, prime: bool) -> int:
    p = check_int("p", p, 2, 1 << 20)  # a³ must fit in int64 after one reduction
    if prime and not _is_prime(p):
        raise ConfigError("p", f"must be a prime, got {p}")
    return p


@functools.cache
def _inverses(p: int) -> np.ndarray:
    """b⁻¹ mod p for every b (0 maps to 0 and is masked out), by Fermat: b^(p-2)."""
    return np.array([pow(b, p - 2, p) if b else 0 for b in range(p)], dtype=np.int64)


def _binary(
    name: str,
    doc: str,
    op: Callable[[np.ndarray, np.ndarray, int], np.ndarray],
    prime: bool = False,
    nonzero_b: bool = False,
) -> Family:
    def build(p: int = DEFAULT_P) -> Task:
        p = _check_p(p, prime)
        z = ModT(p)
        valid = (lambda a, b: b[:, 0] != 0) if nonzero_b else None
        return Task(name, (("p", p),), (z, z), z, lambda a, b: op(a, b, p) % p, doc, valid)

    return Family(name, "modular", build, (("p", DEFAULT_P),), doc)


def _unary(name: str, doc: str, op: Callable[[np.ndarray, int], np.ndarray]) -> Family:
    def build(p: int = DEFAULT_P) -> Task:
        p = _check_p(p, False)
        z = ModT(p)
        return Task(name, (("p", p),), (z,), z, lambda a: op(a, p) % p, doc)

    return Family(name, "modular", build, (("p", DEFAULT_P),), doc)


def _predicate(name: str, doc: str, op: Callable[[np.ndarray, int], np.ndarray]) -> Family:
    def build(p: int = DEFAULT_P) -> Task:
        p = _check_p(p, False)
        return Task(name, (("p", p),), (ModT(p),), BOOL, lambda a: op(a, p).astype(np.int64), doc)

    return Family(name, "modular", build, (("p", DEFAULT_P),), doc)


def _div(a: np.ndarray, b: np.ndarray, p: int) -> np.ndarray:
    return a * _inverses(p)[b] % p


def _cond(a: np.ndarray, b: np.ndarray, p: int) -> np.ndarray:
    return np.where(b % 2 == 1, a + b, a - b)


FAMILIES = (
    _binary("mod_add", "a + b mod p", lambda a, b, p: a + b),
    _binary("mod_sub", "a − b mod p", lambda a, b, p: a - b),
    _binary("mod_mul", "a · b mod p", lambda a, b, p: a * b),
    _binary("mod_div", "a / b mod p for b ≠ 0 (p prime)", _div, prime=True, nonzero_b=True),
    _binary("mod_square_sum", "a² + b² mod p", lambda a, b, p: a * a + b * b),
    _binary("mod_quad", "a² + ab + b² mod p", lambda a, b, p: a * a + a * b + b * b),
    _binary("mod_cubic", "a³ + ab mod p", lambda a, b, p: (a * a % p) * a + a * b),
    _binary("mod_cond", "a + b if b is odd else a − b, mod p", _cond),
    _unary("mod_neg", "−a mod p", lambda a, p: -a),
    _unary("mod_inc", "a + 1 mod p", lambda a, p: a + 1),
    _unary("mod_square", "a² mod p", lambda a, p: a * a),
    _predicate("mod_is_zero", "a == 0", lambda a, p: a == 0),
)
