"""Bottom-up enumeration by size, pruned by observational equivalence (Udupa et al. 2013, TRANSIT;
Albarghouthi et al. 2013): level `s` builds every term of size `s` from the distinct values of
smaller sizes, evaluates them all on the learned circuits (one batched step per production), and
keeps a term only if its values are new for its type.

Two refinements keep the space small without losing a value: functions passed to `map` are
enumerated on their own (globals and right-nested `compose`s) and told apart by their whole table,
computed on the circuits over every value of their argument type, so `compose(color_succ,
color_pred)` — the identity — is never tried; and maps are fused (a `map` is never applied to a
term that is itself a `map`: `map(compose(f, g), xs)` has the same size and value).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch

from circ.lang import types as T
from circ.lang.evaluate import Undefined, evaluate
from circ.lang.layout import flatten, unflatten
from circ.runtime.values import domain_batch
from circ.synth.pool import Pool, value_key
from circ.synth.space import Component, Production, Space
from circ.synth.steps import Steps, step_body
from circ.synth.terms import Compose, Fn, Term, const, var

CHUNK = 2048  # candidates per evaluation pass (times the rows, capped by the step's ROWS_PER_PASS)


@dataclass(frozen=True)
class Budget:
    max_size: int = 8
    seconds: float = 60.0


@dataclass(frozen=True)
class Candidate:
    term: Term
    confidence: float  # the least confident circuit call over every row


@dataclass
class Level:
    size: int
    candidates: int = 0  # terms of this size evaluated
    distinct: int = 0  # of them, kept as new values
    complete: bool = True  # False when the time budget ran out inside this size
    consistent: list[Candidate] = field(default_factory=list)  # goal terms passing the goal check


@dataclass(frozen=True)
class Progress:
    size: int
    candidates: int  # evaluated so far, all sizes
    distinct: int
    seconds: float


@dataclass(frozen=True)
class Rows:
    """What candidates are evaluated on: one `[rows, width]` tensor per parameter."""

    inputs: list[torch.Tensor]
    count: int


GoalCheck = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # values [n, rows, w], sure → mask [n]


class OutOfTime(Exception):
    pass


@dataclass
class _FnPool:
    """Distinct unary functions A → B by their whole table."""

    fns: list[Fn] = field(default_factory=list)
    tables: list[torch.Tensor] = field(default_factory=list)  # [|A|, width(B)]
    keys: set[bytes] = field(default_factory=set)
    by_size: dict[int, list[int]] = field(default_factory=dict)


class Search:
    def __init__(
        self,
        space: Space,
        steps: Steps,
        rows: Rows,
        goal: GoalCheck,
        prune: bool = True,
        progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.space, self.steps, self.rows, self.goal, self.prune = space, steps, rows, goal, prune
        self.progress = progress or (lambda p: None)
        self.pools: dict[T.Type, Pool] = {}
        self.fn_pools: dict[tuple[T.Type, T.Type], _FnPool] = {}
        self.candidates = 0
        self.distinct = 0
        self._start = time.perf_counter()
        self._deadline = float("inf")

    def pool(self, t: T.Type) -> Pool:
        if t not in self.pools:
            self.pools[t] = Pool(t, self.prune)
        return self.pools[t]

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self._start

    # --- the levels ---------------------------------------------------------------------------

    def levels(self, budget: Budget) -> Iterator[Level]:
        self._start = time.perf_counter()
        self._deadline = self._start + budget.seconds
        self._declare_steps()
        for size in range(1, budget.max_size + 1):
            level = Level(size)
            new: dict[T.Type, dict[bytes, tuple[Term, torch.Tensor, torch.Tensor]]] = {}
            try:
                if size == 1:
                    self._leaves(level, new)
                else:
                    self._functions(size - 2)
                    self._build(size, level, new)
            except OutOfTime:
                level.complete = False
            self._commit(level, new)
            self.progress(Progress(size, self.candidates, self.distinct, self.seconds))
            yield level
            if not level.complete:
                return

    def _declare_steps(self) -> None:
        for p in self.space.productions:
            if p.kind != "map":
                fn = p.component.fn if p.component else None
                self.steps.want(p.step, step_body(p.kind, fn, len(p.args), p.index), p.args, p.result)
        for c in self.space.unary():
            self.steps.want(
                ("call", c.name, c.params, c.result, None),
                step_body("call", c.fn, 1, None),
                c.params,
                c.result,
            )
        self.steps.prepare()

    def _leaves(self, level: Level, new: dict) -> None:
        rows = self.rows.count
        for (name, t), values in zip(self.space.params, self.rows.inputs, strict=True):
            self._offer(level, new, [var(name, t)], values.unsqueeze(0), torch.ones(1, rows))
        for t, consts in self.space.constants.items():
            terms = [const(v, t) for v in consts]
            values = torch.tensor([[flatten(t, v)] * rows for v in consts], dtype=torch.long)
            self._offer(level, new, terms, values, torch.ones(len(consts), rows))

    def _commit(self, level: Level, new: dict) -> None:
        for t, found in new.items():
            pool = self.pool(t)
            for key, (term, values, sure) in found.items():
                pool.add(term, values, sure, key)
        level.distinct = sum(len(found) for found in new.values())
        self.distinct += level.distinct
        goals = list(new.get(self.space.goal, {}).values())
        if goals:
            mask = self.goal(torch.stack([g[1] for g in goals]), torch.stack([g[2] for g in goals]))
            level.consistent = [
                Candidate(term, float(sure.min()))
                for (term, _, sure), ok in zip(goals, mask.tolist(), strict=True)
                if ok
            ]
            level.consistent.sort(key=lambda c: (-c.confidence, c.term.render()))

    def _offer(
        self, level: Level, new: dict, terms: list[Term], values: torch.Tensor, sure: torch.Tensor
    ) -> None:
        """Candidates of one type with their values `[n, rows, width]` and confidences `[n, rows]`."""
        if not terms:
            return
        t = terms[0].type
        self.candidates += len(terms)
        level.candidates += len(terms)
        pool, found = self.pool(t), new.setdefault(t, {})
        for i, key in enumerate(value_key(values, t)):
            if not self.prune:
                key += self.candidates.to_bytes(8, "little") + i.to_bytes(4, "little")
            if pool.seen(key):
                continue
            if key in found and float(found[key][2].min()) >= float(sure[i].min()):
                continue
            found[key] = (terms[i], values[i], sure[i])
        self.progress(
            Progress(level.size, self.candidates, self.distinct + sum(map(len, new.values())), self.seconds)
        )
        if time.perf_counter() > self._deadline:
            raise OutOfTime

    # --- functions for map --------------------------------------------------------------------

    def _functions(self, size: int) -> None:
        """Unary functions of `size` (1: the globals; then compose(f, g) with g two smaller)."""
        if size < 1 or size % 2 == 0:
            return
        unary = self.space.unary()
        if size == 1:
            for c in unary:
                (a,) = c.params
                table = domain_batch([("x", a)])
                self._add_fn(c.fn, a, c.result, self.steps.run(self._call_key(c), table)[0])
            return
        for f in unary:
            (m,) = f.params
            for (a, b), pool in list(self.fn_pools.items()):
                if b != m or size - 2 not in pool.by_size:
                    continue
                index = pool.by_size[size - 2]
                tables = torch.cat([pool.tables[i] for i in index])
                out, _ = self.steps.run(self._call_key(f), [tables])
                width = T.width(f.result)
                for k, i in enumerate(index):
                    rows = out[k * len(pool.tables[i]) : (k + 1) * len(pool.tables[i])]
                    self._add_fn(Compose(f.fn, pool.fns[i]), a, f.result, rows.reshape(-1, width))

    def _add_fn(self, fn: Fn, a: T.Type, b: T.Type, table: torch.Tensor) -> None:
        pool = self.fn_pools.setdefault((a, b), _FnPool())
        key = value_key(table.unsqueeze(0), b)[0]
        if self.prune and key in pool.keys:
            return
        if a == b and torch.equal(table, domain_batch([("x", a)])[0]):
            return  # the identity: map(id, xs) is xs
        pool.keys.add(key)
        pool.by_size.setdefault(fn.size, []).append(len(pool.fns))
        pool.fns.append(fn)
        pool.tables.append(table)

    @staticmethod
    def _call_key(c: Component) -> tuple:
        return ("call", c.name, c.params, c.result, None)

    # --- building one size --------------------------------------------------------------------

    def _build(self, size: int, level: Level, new: dict) -> None:
        for p in self.space.productions:
            if p.kind == "map":
                continue
            for sizes in _splits(size - p.own_size, len(p.args)):
                self._instances(p, p.component.fn if p.component else None, sizes, level, new)
        maps = [
            (Production("map", (xs,), out), fn, (size - 1 - f_size,))
            for (xs, out), types in self._maps().items()
            for f_size in range(1, size - 1)
            for fn in self._fns(types, f_size)
        ]
        for p, fn, _ in maps:  # every new map step compiled at once: one type check of the spec
            self.steps.want(self._map_key(p, fn), step_body("map", fn, 1, None), p.args, p.result)
        self.steps.prepare()
        for p, fn, sizes in maps:
            self._instances(p, fn, sizes, level, new)

    def _maps(self) -> dict[tuple[T.Type, T.Type], tuple[T.Type, T.Type]]:
        """(collection, result) of each wanted map → (element type, result element type)."""
        found = {}
        for p in self.space.productions:
            if p.kind == "map":
                elem = self.space.collections[p.args[0]]
                found[(p.args[0], p.result)] = (elem, p.component.result)
        return found

    @staticmethod
    def _map_key(p: Production, fn: Fn) -> tuple:
        return ("map", fn, p.args, p.result, None)

    def _fns(self, types: tuple[T.Type, T.Type], size: int) -> list[Fn]:
        pool = self.fn_pools.get(types)
        return [] if pool is None else [pool.fns[i] for i in pool.by_size.get(size, [])]

    def _instances(
        self, p: Production, fn: Fn | None, sizes: tuple[int, ...], level: Level, new: dict
    ) -> None:
        pools = [self.pools.get(t) for t in p.args]
        if any(pool is None or pool.sizes(s) == 0 for pool, s in zip(pools, sizes, strict=True)):
            return
        key = p.step if p.kind != "map" else self._map_key(p, fn)
        stacks = [pool.stacked(s) for pool, s in zip(pools, sizes, strict=True)]
        ranges = [range(pool.sizes(s)) for pool, s in zip(pools, sizes, strict=True)]
        combos = itertools.product(*ranges)
        while chunk := list(itertools.islice(combos, CHUNK)):
            chunk = [c for c in chunk if self._sensible(p, pools, sizes, c)]
            if not chunk:
                continue
            index = torch.tensor(chunk, dtype=torch.long)
            args = [stack[0][index[:, i]] for i, stack in enumerate(stacks)]  # [n, rows, w_i]
            sure = torch.stack([stack[1][index[:, i]] for i, stack in enumerate(stacks)]).min(dim=0).values
            if p.component is not None and p.component.requires and p.kind == "call":
                keep = self._admitted(p.component, args)
                index, args, sure = index[keep], [a[keep] for a in args], sure[keep]
                if index.shape[0] == 0:
                    continue
            n, rows = index.shape[0], self.rows.count
            out, step_sure = self.steps.run(key, [a.reshape(n * rows, -1) for a in args])
            terms = [self._term(p, fn, pools, sizes, c) for c in index.tolist()]
            self._offer(
                level, new, terms, out.reshape(n, rows, -1), torch.minimum(sure, step_sure.reshape(n, rows))
            )

    def _sensible(
        self, p: Production, pools: list[Pool], sizes: tuple[int, ...], combo: tuple[int, ...]
    ) -> bool:
        if p.kind == "map":
            return pools[0].term(sizes[0], combo[0]).kind != "map"  # fused: use compose instead
        if p.kind == "if":
            if sizes[1] == sizes[2] and combo[1] == combo[2]:
                return False
            cond = pools[0].stacked(sizes[0])[0][combo[0]]
            return bool((cond != cond[0]).any())  # a condition constant on every row picks one branch
        return True

    def _admitted(self, c: Component, args: list[torch.Tensor]) -> torch.Tensor:
        """Candidates whose arguments meet the circuit's `requires` on every row (e.g. div's b != 0)."""
        names = [p.name for p in c.decl.params]
        keep = []
        for k in range(args[0].shape[0]):
            ok = True
            for r in range(self.rows.count):
                env = {
                    n: unflatten(t, a[k, r].tolist()) for n, t, a in zip(names, c.params, args, strict=True)
                }
                try:
                    ok = all(bool(evaluate(q.expr, env)) for q in c.requires)
                except Undefined:
                    ok = False
                if not ok:
                    break
            keep.append(ok)
        return torch.tensor(keep, dtype=torch.bool)

    def _term(self, p: Production, fn: Fn | None, pools: list[Pool], sizes: tuple[int, ...], combo) -> Term:
        parts = tuple(pool.term(s, k) for pool, s, k in zip(pools, sizes, combo, strict=True))
        return Term(p.kind, p.result, parts, fn, p.index)


def _splits(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Every way to write `total` as `parts` positive sizes, in order."""
    if parts == 0:
        if total == 0:
            yield ()
        return
    if parts == 1:
        if total >= 1:
            yield (total,)
        return
    for first in range(1, total - parts + 2):
        for rest in _splits(total - first, parts - 1):
            yield (first, *rest)
