"""The groups a modular circuit's inputs live in, as orderings of its tokens.

Addition and subtraction mod p act on Z_p in the *token* order 0, 1, …, p−1. Multiplication and
division act on the multiplicative group Z_p^*, which is cyclic of order p−1: with a generator g
every nonzero x is g^i for one i = log_g x, and x·y = g^(log x + log y). Read in the *discrete-log*
order g^0, g^1, …, g^(p−2), a multiplicative circuit is an additive one on Z_(p−1), so the Fourier
analysis of the token basis applies unchanged (0 has no logarithm and is left out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from circ.lang.types import ModT
from circ.learn.data.task import Task

# Tasks whose answer is a group operation on (a, b): the combination of the two group indices.
GROUP_TASKS: dict[str, tuple[str, int]] = {  # task name → (basis, sign of b)
    "mod_add": ("token", +1),
    "mod_sub": ("token", -1),
    "mod_mul": ("dlog", +1),
    "mod_div": ("dlog", -1),
}


def is_prime(p: int) -> bool:
    return p >= 2 and all(p % d for d in range(2, int(p**0.5) + 1))


def primitive_root(p: int) -> int:
    """The smallest generator of Z_p^* (p prime): g whose order is p−1, i.e. g^((p−1)/q) ≠ 1 for every
    prime q dividing p−1. For 97 it is 5, for 113 it is 3, for 23 it is 5."""
    if not is_prime(p):
        raise ValueError(f"Z_{p}^* is cyclic with a primitive root only for prime p, got {p}")
    if p == 2:
        return 1
    n, factors, q = p - 1, set(), 2
    while q * q <= n:
        while n % q == 0:
            factors.add(q)
            n //= q
        q += 1
    if n > 1:
        factors.add(n)
    for g in range(2, p):
        if all(pow(g, (p - 1) // q, p) != 1 for q in factors):
            return g
    raise AssertionError("unreachable: every prime has a primitive root")


@dataclass(frozen=True)
class Basis:
    """A cyclic group Z_n laid over tokens: `elements[i]` is the token of group element i."""

    name: str  # "token" or "dlog"
    n: int
    elements: tuple[int, ...]
    generator: int | None = None  # the dlog basis' g

    def describe(self) -> str:
        return "token order" if self.name == "token" else f"discrete-log order (generator {self.generator})"

    def index(self) -> np.ndarray:
        """token → group index, −1 for tokens outside the group (0 in the dlog basis)."""
        out = np.full(max(self.elements) + 1, -1, dtype=np.int64)
        out[list(self.elements)] = np.arange(self.n)
        return out


def token_basis(p: int) -> Basis:
    return Basis("token", p, tuple(range(p)))


def dlog_basis(p: int) -> Basis:
    g = primitive_root(p)
    return Basis("dlog", p - 1, tuple(pow(g, i, p) for i in range(p - 1)), g)


def bases(p: int) -> list[Basis]:
    """Every basis a Mod[p] circuit can be read in: the token order, and for a prime the dlog order."""
    return [token_basis(p), dlog_basis(p)] if is_prime(p) and p > 3 else [token_basis(p)]


def modulus(task: Task) -> int | None:
    """p when every argument of `task` is a Mod[p] (tokens 0…p−1 are the values), else None."""
    ps = {t.p for t in task.arg_types if isinstance(t, ModT)}
    if len(ps) != 1 or not all(isinstance(t, ModT) for t in task.arg_types):
        return None
    p = ps.pop()
    return p if p >= 3 else None
