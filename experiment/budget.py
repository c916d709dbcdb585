"""Parameter budgets: what the composed program holds, and a monolith shaped to match it.

The budget is the sum of the parameters of the distinct catalogued circuits a program calls: what
the composed system stores. A circuit called k times is counted once (a depth-8 Mod[97] chain holds
mul and add, 124,288 parameters, whatever its depth), so the monolith has the composed system's
fixed capacity; `executed` (each call counted) is listed beside it, and the experiment's second
budget is 4× the first. The monolith is the circuits' own architecture (layers, head width,
MLP-to-model ratio) made as wide as the budget allows.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import networkx as nx

from circ.circuit.config import ModelConfig, parameter_shapes
from circ.circuit.interface import CircuitInterface
from circ.compiler import nodes as N
from circ.lang.errors import ConfigError
from circ.learn.catalog import Catalog


def count_parameters(cfg: ModelConfig) -> int:
    return sum(math.prod(shape) for shape in parameter_shapes(cfg).values())


def circuit_calls(graph: nx.MultiDiGraph) -> Counter[str]:
    """Calls per catalog name in a lowered graph (every call as written: `fold` unrolled)."""
    return Counter(a[N.CIRCUIT] for _, a in graph.nodes(data=True) if a[N.OP] == "circuit")


@dataclass(frozen=True)
class Budget:
    circuits: tuple[tuple[str, int, int], ...]  # (catalog name, parameters, calls), by name
    shape: tuple[int, int, int]  # the circuits' (n_layers, d_head, d_mlp // d_model), the widest one's

    @property
    def stored(self) -> int:
        """The budget: each distinct circuit's parameters once."""
        return sum(n for _, n, _ in self.circuits)

    @property
    def executed(self) -> int:
        """Parameters applied per input: each call counted."""
        return sum(n * calls for _, n, calls in self.circuits)

    @property
    def calls(self) -> int:
        return sum(calls for _, _, calls in self.circuits)


def program_budget(graph: nx.MultiDiGraph, catalog: Catalog) -> Budget:
    calls = circuit_calls(graph)
    if not calls:
        raise ConfigError("program", "calls no circuit: there is no budget to match")
    rows, widest = [], None
    for name in sorted(calls):
        record = catalog.get(name)
        cfg = ModelConfig.from_dict(record.config)
        n = record.n_params if record.n_params is not None else count_parameters(cfg)
        rows.append((name, n, calls[name]))
        if widest is None or cfg.d_model > widest.d_model:
            widest = cfg
    assert widest is not None
    shape = (widest.n_layers, widest.d_head, max(1, widest.d_mlp // widest.d_model))
    return Budget(tuple(rows), shape)


def fit_budget(
    iface: CircuitInterface, budget: int, n_layers: int = 1, d_head: int = 16, mlp_ratio: int = 4
) -> ModelConfig:
    """The widest model of this shape with at most `budget` parameters: d_model a multiple of
    `d_head` (heads of that width), d_mlp at least `mlp_ratio`·d_model and then as large as the
    budget allows (so the count lands within one MLP column, 2·d_model + 1, of the budget)."""
    best = None
    for d_model in range(d_head, 4097, d_head):
        base = ModelConfig.for_interface(
            iface, d_model=d_model, n_heads=d_model // d_head, d_mlp=1, n_layers=n_layers
        )
        per_column = n_layers * (2 * d_model + 1)  # fc_in row + bias, fc_out column
        d_mlp = 1 + (budget - count_parameters(base)) // per_column
        if d_mlp < mlp_ratio * d_model:
            break
        best = ModelConfig.from_dict({**base.to_dict(), "d_mlp": d_mlp})
    if best is None:
        raise ConfigError("budget", f"{budget:,} parameters cannot hold a model with d_model {d_head}")
    return best
