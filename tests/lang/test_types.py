"""The type algebra: scalar leaves, widths, domain sizes, printing."""

from __future__ import annotations

from circ.lang import types as T


def test_domain_sizes() -> None:
    assert T.domain_size(T.SeqT(T.COLOR, 6)) == 10**6
    assert T.domain_size(T.TupleT((T.ModT(97), T.ModT(97)))) == 97 * 97
    assert T.domain_size(T.GridT(2, 2)) == 10**4


def test_leaves_and_widths_agree() -> None:
    t = T.TupleT((T.SeqT(T.TupleT((T.BOOL, T.ModT(5))), 3), T.GridT(2, 3), T.IntT(-2, 2)))
    assert T.width(t) == len(T.parts(t)) == 3 * 2 + 6 + 1
    assert T.parts(t)[:2] == [T.BOOL, T.ModT(5)] and T.parts(t)[-1] == T.IntT(-2, 2)


def test_printing_uses_source_syntax() -> None:
    assert str(T.SeqT(T.ModT(97), 3)) == "Seq[Mod[97], 3]"
    assert str(T.TupleT((T.BOOL, T.GridT(5, 5)))) == "(Bool, Grid[5, 5])"
    assert str(T.FnT((T.COLOR, T.COLOR), T.BOOL)) == "(Color, Color) -> Bool"
    assert str(T.IntT(-1, 4)) == "Int[-1, 4]"
