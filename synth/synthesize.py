"""`circ synth` as its list of stages: the spec's components → (an LLM's proposals, when one is
configured) → bottom-up enumeration on the learned circuits → each consistent candidate judged,
shortest and most confident first → the program text and its verdict, or why there is none.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from circ.circuit.provider import CircuitUnavailable
from circ.lang import types as T
from circ.lang.evaluate import Undefined, evaluate
from circ.lang.layout import flatten, unflatten
from circ.learn.catalog import Catalog
from circ.learn.catalog.provider import CatalogProvider
from circ.synth.accept import Verdict, judge
from circ.synth.search import Budget, Level, Progress, Rows, Search
from circ.synth.space import Component, build_space, components_in_scope, default_constants, scalar_types
from circ.synth.spec import Spec
from circ.synth.steps import Steps, step_body
from circ.synth.terms import Term

PROBES = 4  # extra inputs (no expected output) a spec with an `ensures` is also evaluated on
JUDGED_PER_SIZE = 5  # consistent candidates of one size judged before moving on
MAX_RESTARTS = 8  # counterexamples added to the rows before the search stops learning from them

# (spec, usable components, judge) → an accepted program or None, and notes (`circ.synth.llm.propose`)
Proposer = Callable[[Spec, list[Component], Callable[[str], Verdict]], tuple[str | None, list[str]]]


@dataclass
class Synthesis:
    spec: Spec
    program: str | None = None  # the program text, ready to save
    term: Term | None = None
    verdict: Verdict | None = None
    source: str = ""  # "enumeration" | "llm"
    levels: list[Level] = field(default_factory=list)
    max_size: int = 0
    seconds: float = 0.0
    rejected: list[tuple[str, Verdict]] = field(default_factory=list)  # (candidate body, why)
    notes: list[str] = field(default_factory=list)
    components: int = 0
    candidates: int = 0  # evaluated, over every restart
    restarts: int = 0  # searches begun again with a counterexample added to the rows
    gave_up: bool = False  # stopped after MAX_RESTARTS counterexamples

    @property
    def found(self) -> bool:
        return self.program is not None

    @property
    def searched(self) -> int:
        """The largest size every program of which was evaluated."""
        return max((lv.size for lv in self.levels if lv.complete), default=0)

    def summary(self) -> str:
        if self.found:
            how = (
                "an LLM's proposal"
                if self.source == "llm"
                else f"size {self.term.size}, depth {self.term.depth}"
            )
            return f"found `{self.spec.name}` ({how}) in {self.seconds:.1f} s"
        searched, counts = self.searched, f"{self.candidates:,} candidates, {self.seconds:.1f} s"
        if self.gave_up:
            return f"no program found: stopped after {MAX_RESTARTS} counterexamples ({counts})"
        if searched == self.max_size:
            space = f"up to size {self.max_size} over {self.components} components and the combinators"
            if not self.rejected:
                return f"no program {space} fits the examples ({counts})"
            return (
                f"no program {space} passed: {len(self.rejected)} fit the examples but were rejected "
                f"({counts}; at most {JUDGED_PER_SIZE} are judged per size)"
            )
        return (
            f"no program found within the time budget: every program up to size {searched} was "
            f"tried, size {searched + 1} only in part ({counts})"
        )


def synthesize(
    spec: Spec,
    catalog: Catalog,
    budget: Budget | None = None,
    *,
    verify: bool = True,
    prune: bool = True,
    proposer: Proposer | None = None,
    progress: Callable[[Progress], None] | None = None,
    device: str = "cpu",
    seed: int = 0,
) -> Synthesis:
    """Find a body for `spec`; `proposer` (an LLM, `circ.synth.llm.propose`) is asked first."""
    start = time.perf_counter()
    budget = budget or Budget()
    provider = CatalogProvider(catalog, device)
    result = Synthesis(spec, max_size=budget.max_size)

    judged: dict[str, Verdict] = {}

    def accept(program: str) -> Verdict:
        if program not in judged:
            judged[program] = judge(spec, program, catalog, provider, verify=verify, device=device)
        return judged[program]

    steps = Steps(spec, provider, device)
    components = usable_components(spec, steps, result.notes)
    result.components = len(components)
    if proposer is not None:
        program, notes = proposer(spec, components, accept)
        result.notes += notes
        if program is not None:
            result.program, result.source = program, "llm"
            result.verdict = accept(program)
            result.seconds = time.perf_counter() - start
            return result
    space = build_space(spec, components, default_constants(spec, scalar_types(spec, components)))
    probes = PROBES if spec.contracts("ensures") or not spec.examples else 0
    found: list[list[object]] = []  # counterexamples: inputs where a judged candidate broke the spec
    while True:
        rows = make_rows(spec, probes, seed, found)
        search = Search(space, steps, rows, goal_check(spec, rows), prune=prune, progress=progress)
        left = budget.seconds - (time.perf_counter() - start)
        result.levels, again = [], None
        for level in search.levels(Budget(budget.max_size, max(left, 0.0))):
            result.levels.append(level)
            for candidate in level.consistent[:JUDGED_PER_SIZE]:
                program = spec.program(candidate.term)
                verdict = accept(program)
                if verdict.accepted:
                    result.program, result.term, result.verdict = program, candidate.term, verdict
                    result.source = "enumeration"
                    break
                if all(body != candidate.term.render() for body, _ in result.rejected):
                    result.rejected.append((candidate.term.render(), verdict))
                if verdict.counterexample is not None and list(verdict.counterexample) not in found:
                    again = list(verdict.counterexample)
                    break
            if result.found or again is not None:
                break
        result.candidates += search.candidates
        if again is None:
            break
        if len(found) == MAX_RESTARTS:
            result.gave_up = True
            break
        found.append(again)  # CEGIS: the candidate's counterexample joins the rows, and we begin again
        result.restarts += 1
    result.seconds = time.perf_counter() - start
    return result


def usable_components(spec: Spec, steps: Steps, notes: list[str]) -> list[Component]:
    """The components whose circuits load from the catalog; the others are noted and left out."""
    found = []
    for c in components_in_scope(spec):
        key = ("call", c.name, c.params, c.result, None)
        steps.want(key, step_body("call", c.fn, len(c.params), None), c.params, c.result)
    for c in components_in_scope(spec):
        try:
            steps.load(("call", c.name, c.params, c.result, None))
        except CircuitUnavailable as exc:
            notes.append(f"left out `{c.name}`: {exc}")
            continue
        found.append(c)
    return found


def make_rows(spec: Spec, probes: int, seed: int, extra: list[list[object]] = ()) -> Rows:
    """The examples' inputs, then `extra` inputs (counterexamples), then `probes` seeded random
    inputs inside the `requires`: only the examples have expected outputs."""
    values = [list(e.inputs) for e in spec.examples] + [list(x) for x in extra]
    wanted = len(values) + probes
    rng = random.Random(seed)
    names = [n for n, _ in spec.params]
    for _ in range(100 * (probes + 1)):
        if len(values) >= wanted:
            break
        row = [_draw(t, rng) for _, t in spec.params]
        try:
            if all(evaluate(c.expr, dict(zip(names, row, strict=True))) for c in spec.contracts("requires")):
                values.append(row)
        except Undefined:
            continue
    inputs = [
        torch.tensor([flatten(t, row[i]) for row in values], dtype=torch.long)
        for i, (_, t) in enumerate(spec.params)
    ]
    return Rows(inputs, len(values))


def _draw(t: T.Type, rng: random.Random) -> object:
    """A uniformly random value of `t` (dense grids: what the grid circuits were certified on)."""
    leaves = [rng.randint(leaf.low, leaf.high) for leaf in T.parts(t)]
    return unflatten(t, leaves)


def goal_check(spec: Spec, rows: Rows):
    """Candidates that reproduce every example and meet the `ensures` on every probe row."""
    n = len(spec.examples)
    expected = (
        torch.tensor([flatten(spec.result, e.output) for e in spec.examples], dtype=torch.long) if n else None
    )
    ensures = spec.contracts("ensures")
    names = [name for name, _ in spec.params]
    probe_envs = [
        {
            name: unflatten(t, x[r].tolist())
            for name, (_, t), x in zip(names, spec.params, rows.inputs, strict=True)
        }
        for r in range(n, rows.count)
    ]

    def check(values: torch.Tensor, sure: torch.Tensor) -> torch.Tensor:
        ok = (
            (values[:, :n] == expected).all(-1).all(-1)
            if n
            else torch.ones(values.shape[0], dtype=torch.bool)
        )
        if not ensures or not probe_envs:
            return ok
        for k in torch.nonzero(ok).flatten().tolist():
            for r, env in enumerate(probe_envs, n):
                result = unflatten(spec.result, values[k, r].tolist())
                try:
                    holds = all(evaluate(c.expr, {**env, "result": result}) for c in ensures)
                except Undefined:
                    holds = False
                if not holds:
                    ok[k] = False
                    break
        return ok

    return check
