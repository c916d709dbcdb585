"""`circ.session`: a REPL's program built from entered text, checked and run as a file would be."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from circ.lang import types as T
from circ.lang.diagnostics import CircError
from circ.session import INPUT, Session, classify

PRELUDE = """
circuit plus(a: Color, b: Color) -> Color ensures result == (a + b) % 10 learned "t.add";
circuit bigger(a: Color, b: Color) -> Color ensures result >= a and result >= b learned "t.max";
"""


@pytest.fixture
def session(color_provider) -> Iterator[Session]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # two threads on the shared 2-core machine can be 6× slower
    s = Session(color_provider)
    s.declare(PRELUDE)
    yield s
    torch.set_num_threads(before)


def test_inputs_are_classified_by_their_first_word() -> None:
    assert [
        classify(t) for t in ("", ":type x", "let x = 1;", "fn f() -> Color { 1 }", "use a.b;", "plus(1, 2)")
    ] == [
        "empty",
        "command",
        "let",
        "declaration",
        "declaration",
        "expression",
    ]


def test_an_expression_runs_with_its_confidence_and_contracts(session: Session) -> None:
    e = session.evaluate("bigger(plus(7, 5), 5);")
    assert (e.value, e.type, e.checked, e.failed) == (5, T.COLOR, 2, ())
    assert 0.5 < e.confidence <= 1 and e.contracts_held is True
    assert session.type_of("plus") == T.FnT((T.COLOR, T.COLOR), T.COLOR)


def test_a_let_keeps_its_value_so_later_inputs_do_not_rerun_it(session: Session) -> None:
    session.let("let k = plus(4, 4)")  # no `;`: added
    piece, found = session.lets["k"]
    assert found == T.COLOR and piece.text == "let k: Color = 8;"
    assert session.evaluate("plus(k, 1)").value == 9
    session.let("let g = bigger;")
    assert session.lets["g"][0].text == "let g = bigger;"  # a function keeps its expression
    assert session.evaluate("g(k, 3)").value == 8


def test_a_redeclared_name_replaces_the_old_one_and_a_broken_one_changes_nothing(session: Session) -> None:
    session.declare("fn f(a: Color) -> Color { plus(a, 1) }")
    session.declare("fn f(a: Color) -> Color { plus(a, 2) }")
    assert session.evaluate("f(1)").value == 3
    with pytest.raises(CircError) as caught:
        session.declare("fn f(a: Color) -> Color { plus(a, nope) }")
    (d,) = caught.value.diagnostics
    assert (d.span.path, d.span.line, d.span.column) == (INPUT, 1, 35)
    assert caught.value.sources[INPUT].startswith("fn f(a: Color)")
    assert session.evaluate("f(1)").value == 3


def test_a_fn_runs_on_the_running_example(session: Session) -> None:
    first = session.declare("fn twice(a: Color) -> Color ensures result == (a + a) % 10 { plus(a, a) }")[0]
    assert first.example is not None and first.example.checked == 2  # the circuit's and twice's own
    again = Session(session.provider)
    again.declare(PRELUDE)
    assert again.declare("fn twice(a: Color) -> Color { plus(a, a) }")[0].example.what == first.example.what
    session.set_example("a=4")
    assert session.run_example("twice").what == "twice(4)" and session.run_example("twice").value == 8


def test_errors_in_a_loaded_file_point_into_it(color_provider, tmp_path: Path) -> None:
    path = tmp_path / "lib.circ"
    path.write_text(PRELUDE + "fn three() -> Color { plus(1, 2) }\n")
    session = Session(color_provider)
    assert session.load(path) == ["plus", "bigger", "three"]
    session.declare("fn four() -> Color { plus(three(), 1) }")
    path.write_text(PRELUDE)  # `three` is gone: the session's `four` breaks on reload
    with pytest.raises(CircError) as caught:
        session.reload()
    (d,) = caught.value.diagnostics
    assert d.span.path == "<fn four>" and "unknown function `three`" in d.message
    assert session.evaluate("four()").value == 4  # the old file is still the session's


def test_a_fn_whose_circuit_is_missing_is_declared_and_says_why_it_did_not_run(session: Session) -> None:
    session.declare('circuit gone(a: Color) -> Color learned "t.gone";')
    (declared,) = session.declare("fn f(a: Color) -> Color { gone(a) }")
    assert declared.example is None and "no circuit `t.gone` is loaded" in declared.note
    assert "f" in session.names()
