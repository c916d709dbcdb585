"""Composition proofs (DESIGN §6.2): every goal of every function, proved or refuted by Z3.

Z3's `prove` recipe: assert the assumptions and the negated goal; `unsat` means proved, a `sat`
model is a counter-model, shown in source terms (parameters, lets, call results, `result`) and
re-checked with the concrete evaluator. Refutations are relative to the contracts: a circuit is
known only by its `ensures`, so a counter-model may use a circuit answer its contract allows but
its task never gives.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

import z3

from circ.lang import ast
from circ.lang.check import Checked
from circ.lang.diagnostics import Diagnostic, error
from circ.lang.evaluate import Undefined, evaluate
from circ.lang.layout import format_value
from circ.lang.scope import Symbol
from circ.verify.decide import decide
from circ.verify.obligations import Goal, conditions
from circ.verify.sorts import Sym
from circ.verify.sorts import evaluate as model_value
from circ.verify.translate import Unsupported

DEFAULT_TIMEOUT = 10.0  # seconds per obligation


@dataclass(frozen=True)
class Obligation:
    function: str
    kind: str  # "requires" (of a call) | "ensures" (of the function) | "consistency" (its assumptions)
    text: str  # the clause as written
    span: ast.Span  # the call (requires) or the clause (ensures)
    status: str  # "proved" | "refuted" | "unproved" ("unknown" only before enumeration is tried)
    seconds: float
    callee: str | None = None  # requires: the function or circuit called
    call: str = ""  # requires: the call as written
    counter_model: tuple[tuple[str, str], ...] = ()  # (name, value in circ syntax)
    arguments: tuple[tuple[str, str], ...] = ()  # requires, refuted: the callee's parameters there
    reason: str = ""  # unknown: Z3's reason; refuted: why, when the clause is undefined there
    method: str = "z3"  # "z3", or "enumeration" when Z3 left it open and the domain was small

    @property
    def title(self) -> str:
        if self.kind == "requires":
            return f"{self.call} requires {self.text}"
        if self.kind == "ensures":
            return f"{self.function} ensures {self.text}"
        return f"the contracts assumed in {self.function} are consistent"

    def diagnostic(self) -> Diagnostic:
        """A refuted or unknown obligation as a located message with its counter-model."""
        if self.status in ("unknown", "unproved"):
            return error(self.span, f"cannot decide `{self.title}`: {self.reason}")
        notes = []
        if self.counter_model:
            notes.append(
                "counter-model: " + ", ".join(f"{name} = {value}" for name, value in self.counter_model)
            )
        if self.arguments:
            notes.append(f"so `{self.callee}` gets " + ", ".join(f"{n} = {v}" for n, v in self.arguments))
        if self.reason:
            notes.append(self.reason)
        if self.kind == "requires":
            return error(self.span, f"`{self.callee}` may be called here with `{self.text}` false", *notes)
        if self.kind == "ensures":
            return error(self.span, f"`{self.function}` may break `ensures {self.text}`", *notes)
        return error(self.span, f"the contracts assumed in `{self.function}` contradict each other", *notes)


def prove_program(checked: Checked, timeout: float = DEFAULT_TIMEOUT) -> list[Obligation]:
    """Every obligation of the functions to verify, function by function in source order."""
    found = []
    for function in functions_to_verify(checked):
        found += prove_function(checked, function, timeout)
    return found


def functions_to_verify(checked: Checked) -> list[Symbol]:
    """Functions with contracts, verified on their own, and the root file's entry points (functions
    no other calls). A contract-less function called elsewhere is verified where it is inlined:
    alone, with nothing known of its arguments, it could owe `requires` its callers guarantee."""
    functions = [
        s for path in checked.program.modules for s in checked.scopes.own[path].values() if s.kind == "fn"
    ]
    called = set()
    for function in functions:
        for node in _nodes(function.decl.body):
            callee = checked.callees.get(node)
            if callee is not None and callee.kind == "fn":
                called.add(id(callee))
    root = checked.program.root
    return [f for f in functions if f.decl.contracts or (f.module == root and id(f) not in called)]


def prove_function(checked: Checked, function: Symbol, timeout: float = DEFAULT_TIMEOUT) -> list[Obligation]:
    source = checked.program.sources
    try:
        found = conditions(checked, function)
    except Unsupported as exc:
        span = function.decl.name_span
        return [Obligation(function.name, "consistency", "", span, "unknown", 0.0, reason=str(exc))]
    results = []
    start = time.perf_counter()
    if _check(found.assumptions, timeout) == z3.unsat:
        reason = "every goal here would hold vacuously: check the `requires` and the callees' `ensures`"
        span = function.decl.name_span
        results.append(
            Obligation(function.name, "consistency", "", span, "refuted", _since(start), reason=reason)
        )
    for goal in found.goals:
        start = time.perf_counter()
        status, model, reason = _decide(found.assumptions, goal.claim, timeout)
        text = goal.clause.expr.span.excerpt(source[goal.clause.expr.span.path])
        call = goal.span.excerpt(source[goal.span.path]) if goal.kind == "requires" else ""
        counter_model: tuple[tuple[str, str], ...] = ()
        arguments: tuple[tuple[str, str], ...] = ()
        if model is not None:
            counter_model = _values(model, found.shown)
            arguments = _values(model, goal.env.items()) if goal.kind == "requires" else ()
            reason = _undefined(goal, model)
        results.append(
            Obligation(
                function.name,
                goal.kind,
                text,
                goal.span,
                status,
                _since(start),
                callee=goal.callee,
                call=call,
                counter_model=counter_model,
                arguments=arguments,
                reason=reason,
            )
        )
    return _enumerate_undecided(checked, function, found.goals, results)


def _enumerate_undecided(
    checked: Checked, function: Symbol, goals: list, results: list[Obligation]
) -> list[Obligation]:
    """Goals Z3 left open are decided on every input when the domain is small (`decide`); what is
    still open is `unproved`, never `proved` and never `refuted`."""
    first = len(results) - len(goals)
    open_ = [i for i, o in enumerate(results[first:]) if o.status == "unknown"]
    if not open_:
        return results
    start = time.perf_counter()
    decided = decide(checked, function, [goals[i] for i in open_])
    out = list(results)
    for k, i in enumerate(open_):
        o = out[first + i]
        if decided is None:
            out[first + i] = replace(o, status="unproved")
            continue
        d = decided[k]
        reason = f"Z3 could not decide it ({o.reason}); checked on all {d.rows:,} inputs instead"
        out[first + i] = replace(
            o,
            status=d.status,
            seconds=o.seconds + _since(start),
            method="enumeration",
            counter_model=d.counterexample,
            reason=reason
            if d.status == "proved"
            else f"Z3 could not decide it; it fails on an input ({o.reason})",
        )
    return out


def _since(start: float) -> float:
    return time.perf_counter() - start


def _solvers(ctx: z3.Context) -> list[z3.Solver]:
    # Solving the definitions first (`solve-eqs`) proves the nonlinear `%` goals of the examples in
    # milliseconds where the default solver times out; the default is the fallback.
    return [z3.Then("simplify", "solve-eqs", "smt", ctx=ctx).solver(), z3.Solver(ctx=ctx)]


def _decide(
    assumptions: list[z3.BoolRef], claim: z3.BoolRef, timeout: float
) -> tuple[str, z3.ModelRef | None, str]:
    """proved / refuted (with a model) / unknown (with Z3's reason), each solver given half the time."""
    reason = ""
    ctx = z3.Context()  # a fresh context: the answer must not depend on what was solved before
    for solver in _solvers(ctx):
        solver.set(timeout=max(1, int(timeout * 500)))
        solver.add(*(a.translate(ctx) for a in assumptions), z3.Not(claim).translate(ctx))
        answer = solver.check()
        if answer == z3.unsat:
            return "proved", None, ""
        if answer == z3.sat:
            return "refuted", solver.model().translate(z3.main_ctx()), ""
        reason = solver.reason_unknown()
    return "unknown", None, reason


def _check(assumptions: list[z3.BoolRef], timeout: float) -> z3.CheckSatResult:
    ctx = z3.Context()
    solver = _solvers(ctx)[0]
    solver.set(timeout=max(1, int(timeout * 1000)))
    solver.add(*(a.translate(ctx) for a in assumptions))
    return solver.check()


def _values(model: z3.ModelRef, named: Iterable[tuple[str, Sym]]) -> tuple[tuple[str, str], ...]:
    return tuple((name, format_value(model_value(model, value))) for name, value in named)


def _undefined(goal: Goal, model: z3.ModelRef) -> str:
    """Why the clause fails at the counter-model when it is not false but undefined there."""
    env = {name: model_value(model, value) for name, value in goal.env.items()}
    try:
        evaluate(goal.clause.expr, env)
    except Undefined as exc:
        return f"the clause is undefined here: {exc}"
    return ""


def _nodes(node: object):
    """Every AST node below `node`."""
    yield node
    for name in getattr(node, "__dataclass_fields__", {}):
        value = getattr(node, name)
        for child in value if isinstance(value, tuple) else (value,):
            if hasattr(child, "__dataclass_fields__") and not isinstance(child, ast.Span):
                yield from _nodes(child)
