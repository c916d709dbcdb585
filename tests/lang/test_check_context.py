"""Checker niceties: a literal takes its type from the combinator's function, and a wrong argument is
reported once, not followed by the wrong result it causes."""

from __future__ import annotations

import pytest

from circ.lang import types as T
from circ.lang.check import check
from circ.lang.diagnostics import CircError
from circ.lang.modules import load_text

PRELUDE = """
circuit inc(c: Color) -> Color learned "t.inc";
circuit plus(a: Color, b: Color) -> Color learned "t.plus";
circuit count(n: Int[0, 6], c: Color) -> Int[0, 6] learned "t.count";
circuit mplus(a: Mod[7], b: Mod[7]) -> Mod[7] learned "t.mplus";
"""


def checked_types(body: str):
    c = check(load_text(PRELUDE + body, "t.circ"))
    return c, c.function("main").decl.body.result


def errors(body: str) -> list[str]:
    with pytest.raises(CircError) as caught:
        check(load_text(PRELUDE + body, "t.circ"))
    return [d.message for d in caught.value.diagnostics]


def test_a_zip_with_literal_takes_the_functions_element_type() -> None:
    c, result = checked_types(
        "fn main(xs: Seq[Color, 4]) -> Seq[Color, 4] { zip_with(plus, xs, [5, 5, 5, 5]) }"
    )
    assert c.types[result.args[2]] == T.SeqT(T.COLOR, 4)


def test_a_literal_before_the_other_collection_takes_its_shape() -> None:
    c, result = checked_types("fn main(g: Grid[2, 2]) -> Grid[2, 2] { zip_with(plus, [[1, 2], [3, 4]], g) }")
    assert c.types[result.args[1]] == T.GridT(2, 2)


def test_map_and_fold_type_their_literals() -> None:
    c, result = checked_types("fn main() -> Seq[Color, 3] { map(inc, [1, 2, 3]) }")
    assert c.types[result.args[1]] == T.SeqT(T.COLOR, 3)
    c, result = checked_types("fn main() -> Int[0, 6] { fold(count, 0, [1, 2, 3]) }")
    assert c.types[result.args[2]] == T.SeqT(T.COLOR, 3)


def test_a_typed_literal_is_still_range_checked_where_it_is_written() -> None:
    assert errors("fn main(xs: Seq[Color, 3]) -> Seq[Color, 3] { zip_with(plus, xs, [1, 12, 3]) }") == [
        "12 is out of range for Color (0..9)"
    ]


def test_a_literal_of_the_wrong_length_says_so_once() -> None:
    assert errors("fn main(xs: Seq[Color, 3]) -> Seq[Color, 3] { zip_with(plus, xs, [1, 2]) }") == [
        "Seq[Color, 3] needs 3 items, this literal has 2"
    ]


def test_a_wrong_argument_is_not_followed_by_the_wrong_result_it_explains() -> None:
    assert errors("fn main(x: Mod[7]) -> Bool { mplus(x, true) }") == [
        "argument 2 of `mplus` should be Mod[7], but this is Bool"
    ]
    assert errors("fn main(x: Mod[7]) -> Bool { let y: Bool = mplus(x, true); y }") == [
        "argument 2 of `mplus` should be Mod[7], but this is Bool"
    ]


def test_a_wrong_result_alone_is_still_reported() -> None:
    assert errors("fn main(x: Mod[7]) -> Bool { mplus(x, x) }") == ["`main` returns Bool, but this is Mod[7]"]
