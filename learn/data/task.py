"""A task: a typed, vectorised reference function whose examples train one circuit.

Values travel as raw flat integer arrays (`circ.lang.types.flatten` order): an argument of type `t` is
an int64 array `[N, encoding(t).n_tokens]`. Reference functions map such arrays to the output's array
with numpy only, so a whole domain is computed at once (no per-example Python).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from circ.circuit.interface import CircuitInterface
from circ.circuit.signature import format_signature
from circ.lang.types import Type, domain_size

Ref = Callable[..., np.ndarray]
Mask = Callable[..., np.ndarray]
Sampler = Callable[[int, np.random.Generator], list[np.ndarray]]  # (n, rng) → raw argument arrays


@dataclass(frozen=True)
class CellMap:
    """A grid task whose output cell i is `colour[input cell source[i]]`: a fixed permutation of the
    cells, then a fixed map of colours. What a proof can use: the reference is then a function of one
    cell per output, exactly (grid families declare it; tests check it against the reference)."""

    source: tuple[int, ...]  # output cell (row-major) → the input cell it reads
    colour: tuple[int, ...]  # colour c → the colour written


@dataclass(frozen=True, eq=False)
class Task:
    """One learnable function. `params` are the keyword values it was built with (e.g. `p=31`)."""

    name: str
    params: tuple[tuple[str, int], ...]
    arg_types: tuple[Type, ...]
    out_type: Type
    fn: Ref
    doc: str = ""
    valid: Mask | None = None  # inputs outside the function's domain (e.g. b = 0 for a / b) are dropped
    depth: int = 1  # how many primitive tasks are composed in it
    parts: tuple[str, ...] = field(default=())  # for a composition, its primitive keys, outermost first
    cells: CellMap | None = None  # grid tasks that are a cell permutation and a colour map
    # where sampled training data comes from when not uniform over the domain (short inputs padded
    # to a longer model's length: `circ.learn.data.chains`); make_split uses it, nothing else does
    sampler: Sampler | None = None

    @property
    def key(self) -> str:
        """Name plus parameters, e.g. `mod_add[p=31]`: identifies the data a run trains on."""
        if not self.params:
            return self.name
        return f"{self.name}[{','.join(f'{k}={v}' for k, v in self.params)}]"

    @property
    def signature(self) -> str:
        return format_signature(self.arg_types, self.out_type)

    @property
    def interface(self) -> CircuitInterface:
        return CircuitInterface(self.arg_types, self.out_type)

    @property
    def domain_size(self) -> int:
        """Size of the input space before `valid` filtering (exact, may exceed int64)."""
        return math.prod(domain_size(t) for t in self.arg_types)

    def __call__(self, *args: np.ndarray) -> np.ndarray:
        out = np.asarray(self.fn(*args), dtype=np.int64)
        return out.reshape(args[0].shape[0], -1)


@dataclass(frozen=True, eq=False)
class Family:
    """A named task builder: `build(**params)` with every parameter defaulted in `defaults`."""

    name: str
    group: str  # "modular" | "element" | "sequence" | "grid"
    build: Callable[..., Task]
    defaults: tuple[tuple[str, int], ...]
    doc: str


def check_int(field_name: str, value: object, low: int, high: int | None = None) -> int:
    """A task parameter as an int in `[low, high]`, or a `ConfigError` naming it."""
    from circ.lang.errors import ConfigError

    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(field_name, f"must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in {low}..{high}"
        raise ConfigError(field_name, f"must be {bound}, got {value}")
    return int(value)
