"""One broken program per diagnostic kind: each gives exactly one error, at the right place."""

from __future__ import annotations

import pytest

from circ import api
from circ.lang.diagnostics import CircError, render

from support import EXAMPLES, error_files

EXPECTED = [
    ("argument_type.circ", 6, 11, "argument 1 of `reverse` should be Seq[Color, 6], but this is Mod[97]"),
    ("arity.circ", 5, 3, "`add` takes 2 arguments, found 3"),
    ("bad_type_arguments.circ", 2, 12, "`Mod` is written Mod[p] with p ≥ 2, not 1"),
    (
        "call_in_contract.circ",
        5,
        21,
        "contracts cannot call `add`: they are specifications, written with operators",
    ),
    ("compose_mismatch.circ", 6, 11, "compose(f, g) needs g's result (Color) to be f's argument (Mod[97])"),
    ("contract_not_bool.circ", 5, 11, "an `ensures` clause must be Bool, but this is Integer"),
    ("duplicate_definition.circ", 5, 4, "`twice` is already defined at errors/duplicate_definition.circ:4:1"),
    ("dynamic_index.circ", 3, 6, "an index in a function body must be a number written in the program"),
    (
        "fold_accumulator.circ",
        5,
        8,
        "`fold` needs f(accumulator, element) to return its accumulator type Bool, but this returns Color",
    ),
    (
        "function_as_value.circ",
        5,
        3,
        "`color_succ` is a function, not a value: call it, or pass it to map, zip_with, fold or compose",
    ),
    ("if_branches.circ", 5, 28, "the branches of `if` differ: `then` is Mod[97], `else` is Bool"),
    ("if_condition.circ", 3, 6, "the condition of `if` must be Bool, but this is Mod[97]"),
    ("import_cycle.circ", 2, 1, "import cycle: errors/import_cycle.circ → errors/import_cycle.circ"),
    ("index_out_of_range.circ", 3, 6, "index 6 is out of range for Seq[Color, 6] (0..5)"),
    ("literal_out_of_range.circ", 5, 10, "120 is out of range for Mod[97] (0..96)"),
    ("literal_type_unknown.circ", 3, 11, "cannot tell the type of `3` here"),
    (
        "map_function_type.circ",
        5,
        7,
        "`map` over Seq[Color, 6] needs a function taking Color as argument 1, "
        "but this takes Mod[97] (Mod[97] -> Mod[97])",
    ),
    ("missing_module.circ", 2, 1, "cannot find module `stdlib.matrices` in the stdlib"),
    ("not_a_function.circ", 3, 3, "`x` is Color, not a function"),
    ("not_utf8.circ", 1, 14, "this file is not valid UTF-8 (byte 0xff)"),
    ("operator_in_body.circ", 3, 5, "`+` can only be used in contracts; in a function body, call `add(…)`"),
    ("parse_expected_expression.circ", 5, 11, "expected an expression, found ';'"),
    ("parse_missing_semicolon.circ", 6, 3, "expected ';' or an operator, found keyword 'let'"),
    ("projection.circ", 3, 3, "(Bool, Color) has no component .2 (it has 2)"),
    ("recursion.circ", 4, 4, "recursion is not allowed: `countdown` → `countdown`"),
    ("redefine_builtin.circ", 2, 4, "`map` is built in and cannot be redefined"),
    ("result_in_requires.circ", 5, 12, "`result` can only be used in an `ensures` clause"),
    ("return_type.circ", 5, 3, "`main` returns Mod[97], but this is Bool"),
    ("seq_literal_length.circ", 3, 3, "Seq[Color, 3] needs 3 items, this literal has 2"),
    ("unexpected_character.circ", 2, 30, "unexpected character '@'"),
    ("unknown_function.circ", 5, 3, "unknown function `ad`"),
    ("unknown_name.circ", 5, 10, "unknown name `y`"),
    ("unknown_type.circ", 2, 12, "unknown type `Mod97`"),
]


def test_every_error_example_is_listed() -> None:
    assert sorted(name for name, *_ in EXPECTED) == [p.name for p in error_files()]


@pytest.mark.parametrize(("name", "line", "column", "message"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_error_example(in_examples, name: str, line: int, column: int, message: str) -> None:
    with pytest.raises(CircError) as caught:
        api.check(f"errors/{name}")
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.span.line, diagnostic.span.column, diagnostic.message) == (line, column, message)
    assert diagnostic.span.path == f"errors/{name}"


def test_render_shows_line_and_caret_under_the_span(in_examples) -> None:
    with pytest.raises(CircError) as caught:
        api.check("errors/literal_out_of_range.circ")
    text = render(caught.value.diagnostics[0], caught.value.sources)
    assert text.splitlines() == [
        "errors/literal_out_of_range.circ:5:10: error: 120 is out of range for Mod[97] (0..96)",
        "     5 |   add(x, 120)",
        "       |          ^^^",
    ]


def test_notes_are_rendered(in_examples) -> None:
    with pytest.raises(CircError) as caught:
        api.check("errors/unknown_function.circ")
    text = render(caught.value.diagnostics[0], caught.value.sources)
    assert text.endswith("= note: did you mean `add`?")


def test_missing_file_is_a_diagnostic_not_a_traceback(tmp_path) -> None:
    with pytest.raises(CircError) as caught:
        api.check(tmp_path / "nope.circ")
    assert caught.value.diagnostics[0].message == "no such file"
    assert render(caught.value.diagnostics[0], {}).endswith("nope.circ: error: no such file")


def test_all_errors_of_a_program_are_reported_in_order(tmp_path) -> None:
    source = tmp_path / "many.circ"
    source.write_text("fn main(x: Color) -> Color {\n  let a = y;\n  let b = z;\n  x\n}\n")
    with pytest.raises(CircError) as caught:
        api.check(source)
    assert [(d.span.line, d.message) for d in caught.value.diagnostics] == [
        (2, "unknown name `y`"),
        (3, "unknown name `z`"),
    ]


def test_examples_directory_has_error_programs() -> None:
    assert len(error_files()) >= 20 and (EXAMPLES / "errors").is_dir()


def test_a_long_line_is_shown_as_a_window_around_the_caret(tmp_path) -> None:
    params = ", ".join(f"p{i}: Bool" for i in range(2000))
    path = tmp_path / "wide.circ"
    path.write_text(f"fn main({params}) -> Bool {{ p1999 + }}\n")
    with pytest.raises(CircError) as caught:
        api.check(path)
    shown = render(caught.value.diagnostics[0], caught.value.sources)
    _, line, caret = shown.splitlines()
    assert len(line) < 130 and line.split("| ", 1)[1].startswith("…") and "p1999 +" in line
    assert line.index("}") == caret.index("^")  # the caret under the `}` the parser did not expect


def test_lines_are_counted_as_the_parser_counts_them_and_a_bom_is_not_text(tmp_path) -> None:
    path = tmp_path / "ff.circ"
    path.write_bytes(
        b"\xef\xbb\xbf# a form feed \x0c and a line separator \xe2\x80\xa8 stay on line 1\n"
        b"fn main(a: Bool) -> Bool { a + }\n"
    )
    with pytest.raises(CircError) as caught:
        api.check(path)
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.span.line, diagnostic.span.column) == (2, 32)
    assert "fn main(a: Bool) -> Bool { a + }" in render(diagnostic, caught.value.sources)
