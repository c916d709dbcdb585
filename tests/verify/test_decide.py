"""What Z3 leaves open over a small domain is decided on every input, by the contracts alone."""

from __future__ import annotations

from circ.lang.check import check
from circ.lang.modules import load_text
from circ.verify.prove import prove_program

PRELUDE = """
type Z = Mod[97];
circuit add(a: Z, b: Z) -> Z ensures result == (a + b) % 97 learned "mod97.add";
circuit mul(a: Z, b: Z) -> Z ensures result == (a * b) % 97 learned "mod97.mul";
"""


def obligations(body: str, timeout: float = 0.001):
    return prove_program(check(load_text(PRELUDE + body, "t.circ")), timeout=timeout)


def test_a_true_degree_four_polynomial_is_decided_by_enumeration() -> None:
    """The finding of issue 12: Z3 answers `unknown` (here: no time at all); 97 inputs settle it."""
    body = (
        "fn p(x: Z) -> Z ensures result == ((x * x + 1) * (x * x + 2)) % 97"
        " { add(mul(mul(x, x), add(mul(x, x), 3)), 2) }"  # x⁴ + 3x² + 2, factored in the contract
    )
    (o,) = obligations(body, timeout=0.5)
    assert (o.status, o.method) == ("proved", "enumeration")
    assert "checked on all 97 inputs" in o.reason


def test_a_false_claim_is_refuted_with_the_input() -> None:
    body = (  # (x² + 1)(x² + 2) is false at x = 17: 17² = 289 = 3·97 − 2, so x² + 2 vanishes
        "fn p(x: Z) -> Z ensures result != 0 { add(mul(mul(x, x), add(mul(x, x), 3)), 2) }"
    )
    (o,) = obligations(body, timeout=0.5)
    if o.method == "z3":  # Z3 may find this one itself; then it must have refuted it too
        assert o.status == "refuted"
    else:
        assert (o.status, o.counter_model) == ("refuted", (("x", "17"),))  # the first such input


def test_a_domain_too_big_to_list_stays_unproved() -> None:
    body = (  # the polynomial Z3 cannot decide quickly, over 97⁴ ≈ 8.9·10⁷ inputs
        "fn p(x: Z, b: Z, c: Z, d: Z) -> Z"
        " ensures result == ((x * x + 1) * (x * x + 2)) % 97 or b + c + d < 0"
        " { add(mul(mul(x, x), add(mul(x, x), 3)), 2) }"
    )
    (o,) = obligations(body, timeout=0.5)
    assert o.status == "unproved" and o.method == "z3"


def test_a_contract_that_leaves_a_needed_answer_open_stays_unproved() -> None:
    body = """
    circuit some(x: Z) -> Z ensures result != x learned "t.some";
    fn p(x: Z) -> Z ensures result == ((x * x + 1) * (x * x + 2)) % 97
      { add(add(mul(mul(x, x), add(mul(x, x), 3)), 2), mul(some(x), 0)) }
    """
    (o,) = obligations(body, timeout=0.5)  # `some` may answer 96 values: enumeration cannot pick one
    assert o.status == "unproved" and o.method == "z3"
