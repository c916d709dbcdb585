"""Composition proofs: every example proves, the refuted examples are refuted with counter-models
that really break the clause, and the modular rules (opaque contracts, inlining, `if` paths) hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from circ import api
from circ.lang import layout
from circ.lang.check import check
from circ.lang.diagnostics import render
from circ.lang.evaluate import evaluate
from circ.lang.modules import load_text
from circ.lang.types import COLOR
from circ.runtime.values import parse_text
from circ.verify.prove import functions_to_verify, prove_program

from support import EXAMPLES, example_files

REFUTED = EXAMPLES / "refuted"

PRELUDE = """
circuit inc(c: Color) -> Color ensures result == (c + 1) % 10 learned "t.inc";
circuit halve(a: Mod[7], b: Mod[7]) -> Mod[7] requires b != 0 ensures (result * b) % 7 == a learned "t.div";
circuit is_zero(a: Mod[7]) -> Bool ensures result == (a == 0) learned "t.is_zero";
circuit dec(a: Mod[7]) -> Mod[7] ensures result == (a - 1) % 7 learned "t.dec";
"""


def prove(body: str, timeout: float = 10.0):
    checked = check(load_text(PRELUDE + body, "t.circ"))
    return checked, prove_program(checked, timeout)


def statuses(obligations) -> list[tuple[str, str, str]]:
    return [(o.function, o.kind, o.status) for o in obligations]


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_every_example_proves(path: Path, in_examples) -> None:
    obligations = prove_program(api.check(path.name))
    assert all(o.status == "proved" for o in obligations), [
        (o.title, o.status, o.reason) for o in obligations
    ]


def test_contracts_example_proves_requires_from_callers(in_examples) -> None:
    found = {(o.function, o.kind, o.call or o.text) for o in prove_program(api.check("contracts.circ"))}
    assert ("ratio", "requires", "div(a, b)") in found  # div's `requires` from ratio's own
    assert ("safe_ratio", "requires", "ratio(a, divisor)") in found  # ratio's from its caller


def _refuted(name: str):
    checked = api.check(REFUTED / name)
    obligations = prove_program(checked)
    refuted = [o for o in obligations if o.status == "refuted"]
    assert len(refuted) == 1 and all(o.status == "proved" for o in obligations if o not in refuted)
    return checked, refuted[0]


def test_wrong_ensures_is_refuted_with_a_wrapping_input() -> None:
    checked, o = _refuted("wrap_around.circ")
    model = dict(o.counter_model)
    c, result = int(model["c"]), int(model["result"])
    assert c in (8, 9) and result == (c + 2) % 10 and model["color_succ(c)"] == str((c + 1) % 10)
    clause = checked.function("add_two").decl.contracts[0].expr
    assert evaluate(clause, {"c": c, "result": result}) is False


def test_an_unguarded_requires_is_refuted_at_the_call() -> None:
    checked, o = _refuted("unguarded_division.circ")
    assert (o.kind, o.callee, o.call, o.text) == ("requires", "div", "div(a, sub(b, 1))", "b != 0")
    assert dict(o.counter_model)["b"] == "1" and dict(o.arguments)["b"] == "0"
    text = render(o.diagnostic(), checked.program.sources)
    lines = text.splitlines()
    assert lines[0].endswith(
        "unguarded_division.circ:7:3: error: `div` may be called here with `b != 0` false"
    )
    assert lines[1:3] == ["     7 |   div(a, sub(b, 1))", "       |   ^^^^^^^^^^^^^^^^^"]
    assert lines[3].startswith("       = note: counter-model: a = ") and "b = 1, sub(b, 1) = 0" in lines[3]
    assert lines[4].startswith("       = note: so `div` gets a = ") and lines[4].endswith("b = 0")


def test_a_sequence_counter_model_is_printed_in_circ_syntax() -> None:
    checked, o = _refuted("not_descending.circ")
    result = parse_text(dict(o.counter_model)["result"])
    assert len(result) == 6 and all(layout.contains(COLOR, v) for v in result)
    clause = checked.function("descending").decl.contracts[0].expr
    assert evaluate(clause, {"xs": parse_text(dict(o.counter_model)["xs"]), "result": result}) is False


def test_a_function_with_contracts_is_known_only_by_them() -> None:
    opaque = """
    fn twice(c: Color) -> Color ensures result != c { inc(inc(c)) }
    fn main(c: Color) -> Color ensures result == (c + 2) % 10 { twice(c) }
    """
    assert statuses(prove(opaque)[1]) == [("twice", "ensures", "proved"), ("main", "ensures", "refuted")]
    inlined = opaque.replace("ensures result != c ", "")
    assert statuses(prove(inlined)[1]) == [("main", "ensures", "proved")]


def test_a_requires_is_owed_only_on_the_branch_that_calls() -> None:
    guarded = "fn main(a: Mod[7], b: Mod[7]) -> Mod[7] { if is_zero(b) then a else halve(a, b) }"
    assert statuses(prove(guarded)[1]) == [("main", "requires", "proved")]
    unguarded = "fn main(a: Mod[7], b: Mod[7]) -> Mod[7] { if is_zero(b) then halve(a, b) else a }"
    assert statuses(prove(unguarded)[1]) == [("main", "requires", "refuted")]


def test_a_requires_of_an_inlined_function_is_proved_where_it_is_called() -> None:
    program = """
    fn ratio(a: Mod[7], b: Mod[7]) -> Mod[7] { halve(a, b) }
    fn main(a: Mod[7]) -> Mod[7] { ratio(a, 3) }
    fn bad(a: Mod[7]) -> Mod[7] { ratio(a, dec(1)) }
    """
    checked, obligations = prove(program)
    assert [f.name for f in functions_to_verify(checked)] == ["main", "bad"]
    assert statuses(obligations) == [("main", "requires", "proved"), ("bad", "requires", "refuted")]


def test_contradictory_assumptions_are_reported_not_used() -> None:
    _, obligations = prove(
        "fn main(a: Mod[7]) -> Mod[7] requires a > 5 and a < 3 ensures result == 4 { dec(a) }"
    )
    assert statuses(obligations)[0] == ("main", "consistency", "refuted")


def test_an_undefined_ensures_is_refuted_with_the_reason() -> None:
    _, [o] = prove("fn main(a: Mod[7]) -> Mod[7] ensures result == a / (a - a) { dec(a) }")
    assert o.status == "refuted" and o.reason == "the clause is undefined here: division by zero"


def test_a_timeout_on_a_small_domain_is_decided_on_every_input(in_examples) -> None:
    obligations = prove_program(api.check("contracts.circ"), timeout=0.001)
    hard = next(o for o in obligations if o.function == "safe_ratio" and o.kind == "ensures")
    assert (hard.status, hard.method) == ("proved", "enumeration")
    assert "(timeout)" in hard.reason or "(canceled)" in hard.reason
    assert "checked on all 9,409 inputs" in hard.reason


def test_combinators_unroll_over_grids_and_sequences() -> None:
    program = """
    circuit paint(c: Color) -> Color ensures result == (if c == 1 then 2 else c) learned "t.paint";
    circuit big(a: Color, b: Color) -> Color ensures result >= a and result >= b learned "t.max";
    fn clean(g: Grid[2, 2]) -> Grid[2, 2] ensures forall r in 0..2: forall c in 0..2: result[r, c] != 1
    { map(paint, g) }
    fn same(g: Grid[2, 2]) -> Grid[2, 2] ensures result[1, 0] == g[1, 0] { map(paint, g) }
    fn peak(xs: Seq[Color, 3]) -> Color ensures forall i in 0..3: result >= xs[i] { fold(big, 0, xs) }
    """
    _, obligations = prove(program)
    assert [o.status for o in obligations] == ["proved", "refuted", "proved"]
    assert parse_text(dict(obligations[1].counter_model)["g"])[1][0] == 1
