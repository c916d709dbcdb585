"""Property tests: a wrong program shrinks to its minimal failing input, a noisy circuit is caught,
`requires` filters inputs, and a missing circuit is reported instead of run."""

from __future__ import annotations

import itertools

from circ.lang.check import check
from circ.lang.modules import load_text
from circ.learn.catalog.provider import CatalogProvider
from circ.verify.properties import check_function
from circ.verify.reference import ReferenceProvider

from .conftest import noisy, register

PRELUDE = """
circuit plus(a: Color, b: Color) -> Color ensures result == (a + b) % 10 learned "t.add";
circuit bigger(a: Color, b: Color) -> Color ensures result >= a and result >= b learned "t.max";
"""


def run(catalog, body: str, function: str = "main", examples: int = 60):
    checked = check(load_text(PRELUDE + body, "t.circ"))
    provider = CatalogProvider(catalog)
    return check_function(checked, function, provider, ReferenceProvider(catalog), examples=examples)


def test_a_wrong_ensures_shrinks_to_the_minimal_failing_input(catalog) -> None:
    # a + b overflows a Color from 10 on; in Hypothesis's order the least such input is a = 1, b = 9
    result = run(catalog, "fn main(a: Color, b: Color) -> Color ensures result == a + b { plus(a, b) }")
    failure = result.failure
    assert failure is not None and failure.inputs == (("a", 1), ("b", 9))
    assert failure.output == 0 == failure.expected and result.shrinks > 0
    assert failure.reasons == ("breaks its `ensures` at t.circ:4:46",)
    assert [s.what for s in failure.steps] == ["input a", "input b", "plus [t.add]", "output"]
    assert failure.steps[2].inputs == (1, 9) and failure.steps[2].ensures is True
    smaller = [(a, b) for a, b in itertools.product(range(10), repeat=2) if (a, b) < (1, 9)]
    assert all(a + b < 10 for a, b in smaller), "no smaller input fails: the shrunk one is minimal"


def test_a_correct_program_passes_against_its_reference(catalog) -> None:
    body = "fn main(a: Color, b: Color) -> Color ensures result >= b { bigger(plus(a, b), b) }"
    result = run(catalog, body)
    assert result.passed and result.no_reference is None and 0 < result.examples <= 60


def test_injected_weight_noise_is_caught_against_the_reference(catalog, color_provider, tmp_path) -> None:
    register(catalog, tmp_path, "t.add", "color_add", noisy(color_provider.models["t.add"].model))
    result = run(catalog, "fn main(a: Color, b: Color) -> Color { plus(a, b) }")
    failure = result.failure
    assert failure is not None
    (a, b), got = (v for _, v in failure.inputs), failure.output
    assert failure.expected == (a + b) % 10 != got
    assert failure.reasons[0] == f"returns {got}, the reference program {(a + b) % 10}"
    assert failure.steps[2].ensures is False, "the trace shows the circuit breaking its contract"


def test_inputs_outside_requires_are_skipped(catalog) -> None:
    body = """fn main(a: Color, b: Color) -> Color requires a != 0 and b == 9 ensures result == a - 1
    { plus(a, b) }"""
    result = run(catalog, body)
    assert result.passed and result.skipped > result.examples > 0


def test_an_unavailable_circuit_is_reported_not_run(catalog) -> None:
    body = 'circuit gone(c: Color) -> Color learned "t.gone";\nfn main(c: Color) -> Color { gone(c) }'
    result = run(catalog, body)
    assert not result.passed and "t.gone" in result.unavailable and result.examples == 0
