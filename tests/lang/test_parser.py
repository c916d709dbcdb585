"""The grammar: golden parses of the examples, spans, and parse errors in words."""

from __future__ import annotations

import pytest

from circ.lang import ast
from circ.lang.diagnostics import CircError
from circ.lang.parser import parse

from support import assert_golden, example_files


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_golden_parse(path) -> None:
    module = parse(path.read_text(), path.name)
    assert_golden(f"{path.stem}.ast", ast.dump(module) + "\n")


def _expr(source: str) -> ast.Expr:
    module = parse(f"fn f(x: Bool) -> Bool\n  ensures {source}\n{{ x }}")
    return module.items[0].contracts[0].expr


def test_precedence_follows_python() -> None:
    e = _expr("1 + 2 * 3 == 7 and not x or x")
    assert isinstance(e, ast.BinOp) and e.op == "or"
    left = e.left
    assert left.op == "and" and isinstance(left.right, ast.UnaryOp)
    eq = left.left
    assert eq.op == "==" and eq.left.op == "+" and eq.left.right.op == "*"


def test_subtraction_is_left_associative() -> None:
    e = _expr("10 - 3 - 2 == 5")
    assert e.left.op == "-" and e.left.left.op == "-" and e.left.left.left.value == 10


def test_postfix_projection_indexing_and_negative_literals() -> None:
    e = _expr("x.0[1, 2] == -3")
    index = e.left
    assert isinstance(index, ast.Index) and len(index.indices) == 2
    assert isinstance(index.expr, ast.Proj) and index.expr.index == 0
    assert isinstance(e.right, ast.IntLit) and e.right.value == -3


def test_forall_and_if() -> None:
    e = _expr("forall i in 0..6: (if x then 1 else 2) > 0")
    assert isinstance(e, ast.Forall) and e.var == "i" and e.hi.value == 6
    assert isinstance(e.body.left, ast.If)


def test_spans_are_one_based_and_cover_the_text() -> None:
    module = parse("fn main(x: Bool) -> Bool {\n  x\n}\n", "s.circ")
    fn = module.items[0]
    assert (fn.name_span.line, fn.name_span.column, fn.name_span.end_column) == (1, 4, 8)
    result = fn.body.result
    assert (result.span.path, result.span.line, result.span.column) == ("s.circ", 2, 3)


def test_literals_tuples_and_lists() -> None:
    module = parse("fn f(x: Bool) -> Bool { let t = (x, [1, 2], [[1], [2]], true); x }")
    value = module.items[0].body.lets[0].value
    assert isinstance(value, ast.TupleLit) and len(value.items) == 4
    assert isinstance(value.items[2].items[0], ast.ListLit)


def test_comments_and_empty_file() -> None:
    assert parse("# only a comment\n").items == ()
    assert parse("").items == ()


def test_circuit_declaration() -> None:
    module = parse(
        'circuit inc(a: Mod[7]) -> Mod[7]\n  requires a != 6\n  ensures result == a + 1\n  learned "m7.inc";'
    )
    decl = module.items[0]
    assert isinstance(decl, ast.CircuitDecl) and decl.learned == "m7.inc"
    assert [c.kind for c in decl.contracts] == ["requires", "ensures"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("fn f(x: Bool) -> Bool { let = x; x }", "expected a name, found '='"),
        ("fn f(x: Bool) -> Bool { let fn = x; x }", "expected a name, found keyword 'fn'"),
        ("fn f(x: Bool) -> { x }", "expected a type, found '{'"),
        ("fn f(x: Bool) -> Bool { x", "expected '}' or an operator, found end of file"),
        ("circuit f(x: Bool) -> Bool learned foo;", 'expected a string such as "mod97.add", found `foo`'),
        ("fn f(x: Bool) -> Bool { x.a }", "expected a number, found `a`"),
        ("fn f(x: Bool) -> Bool { [x, }", "expected ']' or an expression, found '}'"),
    ],
)
def test_parse_errors_say_what_was_expected_in_words(source: str, message: str) -> None:
    with pytest.raises(CircError) as caught:
        parse(source, "p.circ")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == message
    assert "__ANON" not in diagnostic.message and "RPAR" not in diagnostic.message


def test_the_parser_cache_is_private_and_survives_a_corrupt_file(tmp_path) -> None:
    """A cached parser parses like a built one; a corrupt cache file is rebuilt; a shared (group- or
    world-writable) directory is never read, since the cache is a pickle."""
    import os

    from circ.lang.parser import GRAMMAR, build_parser
    from circ.lang.parser_cache import cached_parser

    text = GRAMMAR.read_text()
    source = 'circuit inc(c: Color) -> Color learned "t.inc";\nfn main(c: Color) -> Color { inc(c) }\n'
    first = cached_parser(text, build_parser, tmp_path / "c")
    (cached,) = (tmp_path / "c").glob("parser-*.pickle")
    assert oct((tmp_path / "c").stat().st_mode & 0o777) == "0o700"
    again = cached_parser(text, lambda: (_ for _ in ()).throw(AssertionError("rebuilt")), tmp_path / "c")
    assert again.parse(source) == first.parse(source)
    cached.write_bytes(b"not a pickle")
    assert cached_parser(text, build_parser, tmp_path / "c").parse(source) == first.parse(source)
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    cached_parser(text, build_parser, shared)
    assert not list(shared.iterdir()), "nothing is written to, or read from, a shared directory"
