"""`synth fn` specs: parsed into `SynthDecl`s, examples typed by the signature and held to the spec's
own contracts, and every mistake reported where it is written."""

from __future__ import annotations

import pytest

from circ.lang import ast
from circ.lang.check import check
from circ.lang.diagnostics import CircError
from circ.lang.evaluate import evaluate
from circ.lang.modules import load, load_text
from circ.lang.parser import parse

from support import EXAMPLES

PRELUDE = 'circuit plus(a: Color, b: Color) -> Color ensures result == (a + b) % 10 learned "t.plus";\n'


def errors(text: str) -> list[tuple[int, str]]:
    with pytest.raises(CircError) as caught:
        check(load_text(PRELUDE + text, "s.circ"))
    return [(d.span.line - 1, d.message) for d in caught.value.diagnostics]


def test_a_spec_parses_into_a_synth_decl_with_its_examples_and_contracts() -> None:
    module = parse(
        "synth fn f(a: Color, b: Color) -> Color\n"
        "  examples { (1, 2) -> 3; (4, 5) -> 9; }\n"
        "  ensures result == (a + b) % 10;\n"
    )
    (decl,) = module.items
    assert isinstance(decl, ast.SynthDecl)
    assert [p.name for p in decl.params] == ["a", "b"]
    assert [c.kind for c in decl.contracts] == ["ensures"]
    assert [(evaluate(e.inputs, {}), evaluate(e.output, {})) for e in decl.examples] == [
        ((1, 2), 3),
        ((4, 5), 9),
    ]


def test_a_spec_checks_and_is_a_synth_symbol_no_stage_calls() -> None:
    checked = check(
        load_text(
            PRELUDE
            + "synth fn f(g: Grid[2, 2]) -> Grid[2, 2] examples { [[1, 0], [0, 2]] -> [[0, 1], [2, 0]]; };",
            "s.circ",
        )
    )
    (symbol,) = [s for s in checked.symbols() if s.name == "f"]
    assert symbol.kind == "synth" and checked.function("f") is None
    assert str(symbol.signature) == "f(g: Grid[2, 2]) -> Grid[2, 2]"


def test_examples_are_typed_by_the_signature() -> None:
    found = errors(
        "synth fn f(a: Color, b: Color) -> Color\n"
        "  examples { 5 -> 10; (1, plus(1, 2)) -> 3; (1, 12) -> 3; (1, 2) -> true; };"
    )
    assert [message for _, message in found] == [
        "example 1 should give 2 inputs, as a tuple `(a, b, …)`",
        "example 2: b must be a value written out (numbers, lists, tuples)",
        "12 is out of range for Color (0..9)",
        "example 4: the output is Color, but this is Bool",
    ]


def test_examples_must_meet_the_contracts_and_agree_with_each_other() -> None:
    found = errors(
        "synth fn f(a: Color, b: Color) -> Color\n"
        "  examples { (1, 2) -> 3; (1, 2) -> 4; (0, 0) -> 0; }\n"
        "  requires a != 0\n"
        "  ensures result == (a + b) % 10;"
    )
    assert found == [
        (2, "examples 1 and 2 give one input different outputs"),
        (2, "example 2 breaks the `ensures` at line 5"),
        (2, "example 3 breaks the `requires` at line 4"),
    ]


def test_a_spec_needs_examples_or_an_ensures() -> None:
    assert errors("synth fn f(a: Color) -> Color;") == [
        (1, "`synth fn f` needs examples or an `ensures` to search for")
    ]


def test_a_contract_only_spec_checks() -> None:
    check(load_text(PRELUDE + "synth fn f(a: Color) -> Color ensures result == (a + 2) % 10;", "s.circ"))


def test_the_example_specs_check() -> None:
    specs = sorted((EXAMPLES / "synth").glob("*.circ"))
    assert specs
    for path in specs:
        assert any(s.kind == "synth" for s in check(load(path)).symbols())
