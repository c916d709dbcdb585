"""When is a node's value used? The condition, over `if` conditions, under which the output needs it.

The graph is pure dataflow: both branches of an `if` are computed. But a call in the untaken branch
does not matter to the answer — so it owes its `requires` only when its branch is taken (proofs),
and its confidence or contract failure should not be charged to the row (runtime). `demand` walks the
graph from the output backwards: the output is needed always; a `select` passes its own condition to
its `then` argument and the negation to its `else`; every other node passes its demand to all its
arguments; a node used in several places is needed when any use needs it.

The conditions are values of any boolean algebra — Z3 terms for proofs, `[rows]` masks at run time —
so both meanings come from this one walk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import networkx as nx

from circ.compiler import nodes as N
from circ.compiler.builtins import SELECT

C = TypeVar("C")


@dataclass(frozen=True)
class Algebra(Generic[C]):
    true: C
    and_: Callable[[C, C], C]
    or_: Callable[[C, C], C]
    not_: Callable[[C], C]


def demand(graph: nx.MultiDiGraph, algebra: Algebra[C], condition: Callable[[int], C]) -> dict[int, C]:
    """Node → when the output needs it (nodes the output never needs are absent). `condition(node)`
    is the truth of a `select`'s condition node, in the algebra."""
    needed: dict[int, C] = {N.output(graph): algebra.true}
    for node in reversed(N.topological_order(graph)):
        if node not in needed:
            continue
        here = needed[node]
        args = N.args_of(graph, node)
        if graph.nodes[node][N.OP] == "builtin" and graph.nodes[node][N.BUILTIN] == SELECT:
            cond = condition(args[0])
            uses = [here, algebra.and_(here, cond), algebra.and_(here, algebra.not_(cond))]
        else:
            uses = [here] * len(args)
        for arg, use in zip(args, uses, strict=True):
            needed[arg] = use if arg not in needed else algebra.or_(needed[arg], use)
    return needed


# When a node is needed, as a formula over the graph's `if` conditions: a set of conjunctions, each a
# set of (condition node, polarity) literals. Compile-time passes compare these (two calls batched
# into one must be needed under the same condition, or one's confidence would be charged to rows that
# never take its branch). Past `MAX_TERMS` a formula is widened to "always" — only ever more needed.
Formula = frozenset[frozenset[tuple[int, bool]]]
ALWAYS: Formula = frozenset({frozenset()})
MAX_TERMS = 64


def _and(a: Formula, b: Formula) -> Formula:
    terms = frozenset(x | y for x in a for y in b if not any((n, not v) in y for n, v in x))
    return terms if len(terms) <= MAX_TERMS else ALWAYS


def _or(a: Formula, b: Formula) -> Formula:
    if frozenset() in a or frozenset() in b:
        return ALWAYS
    terms = a | b
    return terms if len(terms) <= MAX_TERMS else ALWAYS


def _not(a: Formula) -> Formula:
    (term,) = a  # `demand` negates only a condition itself: one literal
    ((node, value),) = term
    return frozenset({frozenset({(node, not value)})})


SYMBOLIC: Algebra[Formula] = Algebra(ALWAYS, _and, _or, _not)


def conditions(graph: nx.MultiDiGraph) -> dict[int, Formula]:
    """Node → the formula over `if` conditions under which the output needs it."""
    return demand(graph, SYMBOLIC, lambda node: frozenset({frozenset({(node, True)})}))
