"""Contract translation: on concrete values, the Z3 term agrees with the concrete evaluator — its
value where the evaluator answers, and undefined exactly where the evaluator raises `Undefined`."""

from __future__ import annotations

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from circ.lang import layout
from circ.lang import types as T
from circ.lang.evaluate import Undefined, evaluate
from circ.lang.parser import parse
from circ.verify.sorts import constant, equal, fresh
from circ.verify.sorts import evaluate as model_value
from circ.verify.strategies import strategy
from circ.verify.translate import translate

PARAMS = {
    "a": T.IntT(-20, 20),
    "b": T.IntT(-5, 5),
    "p": T.BOOL,
    "xs": T.SeqT(T.COLOR, 3),
    "g": T.GridT(2, 3),
    "t": T.TupleT((T.COLOR, T.BOOL)),
}
ENVS = st.fixed_dictionaries({name: strategy(t) for name, t in PARAMS.items()})

CONSTRUCTS = [
    "(a + b) * 2 - a == 3",
    "a % b == 1",  # Euclidean: always in 0..|b|-1, even for negative a or b; undefined for b = 0
    "a / b < 0",
    "-a >= b",
    "a / 3 * 3 + a % 3 == a",
    "not p or a > b",
    "p and a != 0",
    "b != 0 and a / b > 1",  # short-circuits: defined when b = 0
    "b == 0 or a % b == 0",
    "(if p then a else b) <= 3",
    "(if b == 0 then 0 else a / b) == 2",
    "xs[1] == xs[2]",
    "xs[b] > 4",  # a symbolic index: undefined outside 0..2
    "xs[(a % 3 + 3) % 3] != 0",
    "g[1, 2] == g[0, 0] + 1",
    "g[1] == xs",
    "g[b % 2, b % 3] >= 5",
    "forall i in 0..3: xs[i] <= a",
    "forall i in 0..2: forall j in 0..3: g[i, j] == xs[j]",
    "forall i in 0..4: xs[i] > 0",  # undefined at i = 3 unless an earlier body is already false
    "forall i in 0..b: xs[i] >= 1",  # a symbolic range: a bounded quantifier
    "t.0 == 3 and t.1",
    "t == (xs[0], p)",
    "[a, b] == [b, a]",
]


def _clause(text: str):
    params = ", ".join(f"{name}: {t}" for name, t in PARAMS.items())
    module = parse(f'circuit f({params}) -> Bool\n  ensures {text}\n  learned "t.f";')
    return module.items[0].contracts[0].expr


def _proved(claim: z3.BoolRef) -> bool:
    solver = z3.Solver()
    solver.add(z3.Not(claim))
    return solver.check() == z3.unsat


@pytest.mark.parametrize("text", CONSTRUCTS)
@settings(max_examples=25, deadline=None, database=None)
@given(env=ENVS)
def test_z3_agrees_with_the_evaluator(text: str, env: dict) -> None:
    _check_agreement(text, env)


def _check_agreement(text: str, env: dict) -> None:
    expr = _clause(text)
    symbolic = {name: fresh(name, t)[0] for name, t in PARAMS.items()}
    fixed = z3.And(*[equal(symbolic[name], constant(value)) for name, value in env.items()])
    term = translate(expr, symbolic)
    try:
        expected = evaluate(expr, env)
    except Undefined:
        assert _proved(z3.Implies(fixed, z3.Not(term.defined))), f"{text} should be undefined at {env}"
        return
    assert _proved(z3.Implies(fixed, term.defined)), f"{text} should be defined at {env}"
    assert _proved(z3.Implies(fixed, equal(term.value, constant(expected)))), f"{text} ≠ {expected} at {env}"


_ZEROS = {"a": 0, "p": False, "g": [[0, 0, 0], [0, 0, 0]], "t": (0, False)}


@pytest.mark.parametrize(
    ("text", "env"),
    [
        # `all(…)` stops at i = 0 (xs[0] < 1) before xs[3] is out of range, so the clause is defined and false
        ("forall i in 0..b: xs[i] >= 1", {**_ZEROS, "b": 4, "xs": [0, 0, 0]}),
        ("forall i in 0..b: xs[i] >= 1", {**_ZEROS, "b": 5, "xs": [1, 0, 1]}),
        # every earlier body is true, so xs[3] is reached: undefined
        ("forall i in 0..b: xs[i] >= 1", {**_ZEROS, "b": 4, "xs": [1, 1, 1]}),
        # within range throughout (b = 3) or empty (b < 0): defined and true
        ("forall i in 0..b: xs[i] >= 1", {**_ZEROS, "b": 3, "xs": [1, 1, 1]}),
        ("forall i in 0..b: xs[i] >= 1", {**_ZEROS, "b": -2, "xs": [0, 0, 0]}),
    ],
)
def test_a_symbolic_forall_short_circuits_as_the_evaluator_does(text: str, env: dict) -> None:
    _check_agreement(text, env)


@pytest.mark.parametrize(
    "t",
    [
        T.BOOL,
        T.ModT(5),
        T.IntT(-2, 3),
        T.COLOR,
        T.SeqT(T.ModT(3), 2),
        T.GridT(1, 2),
        T.TupleT((T.BOOL, T.IntT(1, 2))),
    ],
)
def test_a_fresh_value_ranges_over_exactly_its_type(t: T.Type) -> None:
    value, ranges = fresh("v", t)
    solver = z3.Solver()
    solver.add(*ranges)
    found = []
    while solver.check() == z3.sat and len(found) <= T.domain_size(t):
        model = solver.model()
        found.append(model_value(model, value))
        solver.add(z3.Not(equal(value, constant(found[-1]))))
    assert sorted(map(repr, found)) == sorted(map(repr, layout.values(t)))
