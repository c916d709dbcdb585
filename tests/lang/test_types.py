"""Types: token encodings, domain sizes, membership, and encode/decode round trips."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from circ.lang import types as T


def test_encodings_follow_design_section_3() -> None:
    assert T.encoding(T.ModT(97)) == T.Encoding(1, 97)
    assert T.encoding(T.SeqT(T.COLOR, 6)) == T.Encoding(6, 10)
    assert T.encoding(T.GridT(5, 5)) == T.Encoding(25, 10)
    assert T.encoding(T.BOOL) == T.Encoding(1, 2)
    assert T.encoding(T.IntT(-3, 3)) == T.Encoding(1, 7)
    # a tuple concatenates its parts; the vocabulary is the largest part's
    assert T.encoding(T.TupleT((T.ModT(97), T.COLOR))) == T.Encoding(2, 97)


def test_domain_sizes() -> None:
    assert T.domain_size(T.SeqT(T.COLOR, 6)) == 10**6
    assert T.domain_size(T.TupleT((T.ModT(97), T.ModT(97)))) == 97 * 97
    assert T.domain_size(T.GridT(2, 2)) == 10**4


def test_scalar_tokens_are_offsets_from_the_low_end() -> None:
    assert T.encode(T.IntT(-3, 3), -3) == [0]
    assert T.decode(T.IntT(-3, 3), [6]) == 3
    assert T.encode(T.BOOL, True) == [1]
    assert T.decode(T.BOOL, [0]) is False


def test_membership_checks_shape_range_and_kind() -> None:
    assert T.contains(T.ModT(7), 6) and not T.contains(T.ModT(7), 7)
    assert not T.contains(T.ModT(7), True), "a Bool is not a number here"
    assert not T.contains(T.BOOL, 1)
    assert T.contains(T.GridT(2, 3), [[1, 2, 3], [4, 5, 6]])
    assert not T.contains(T.GridT(2, 3), [[1, 2, 3], [4, 5]])
    assert not T.contains(T.SeqT(T.COLOR, 2), [1, 10])
    assert not T.contains(T.SeqT(T.COLOR, 2), 5)


def test_values_enumerates_the_domain_in_token_order() -> None:
    everything = list(T.values(T.TupleT((T.BOOL, T.IntT(0, 2)))))
    assert len(everything) == T.domain_size(T.TupleT((T.BOOL, T.IntT(0, 2))))
    assert everything[0] == (False, 0) and everything[-1] == (True, 2)


def test_printing_uses_source_syntax() -> None:
    assert str(T.SeqT(T.ModT(97), 3)) == "Seq[Mod[97], 3]"
    assert str(T.TupleT((T.BOOL, T.GridT(5, 5)))) == "(Bool, Grid[5, 5])"
    assert str(T.FnT((T.COLOR, T.COLOR), T.BOOL)) == "(Color, Color) -> Bool"
    assert str(T.IntT(-1, 4)) == "Int[-1, 4]"


_scalars = st.one_of(
    st.just(T.BOOL),
    st.just(T.COLOR),
    st.integers(2, 200).map(T.ModT),
    st.tuples(st.integers(-50, 50), st.integers(0, 50)).map(lambda t: T.IntT(t[0], t[0] + t[1])),
)
_types = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.tuples(inner, st.integers(1, 4)).map(lambda t: T.SeqT(*t)),
        st.tuples(st.integers(1, 3), st.integers(1, 3)).map(lambda t: T.GridT(*t)),
        st.lists(inner, min_size=2, max_size=3).map(lambda items: T.TupleT(tuple(items))),
    ),
    max_leaves=6,
)


def _value(t: T.Type) -> st.SearchStrategy:
    """Values built within bounds (STYLE: strategies come from circ types, not filters)."""
    if isinstance(t, T.BoolT):
        return st.booleans()
    if isinstance(t, T.ScalarT):
        return st.integers(t.low, t.high)
    if isinstance(t, T.SeqT):
        return st.lists(_value(t.elem), min_size=t.n, max_size=t.n)
    if isinstance(t, T.GridT):
        row = st.lists(st.integers(0, 9), min_size=t.w, max_size=t.w)
        return st.lists(row, min_size=t.h, max_size=t.h)
    return st.tuples(*(_value(item) for item in t.items))


@given(_types.flatmap(lambda t: st.tuples(st.just(t), _value(t))))
def test_encode_decode_round_trip(case) -> None:
    t, value = case
    tokens = T.encode(t, value)
    assert len(tokens) == T.encoding(t).n_tokens
    assert all(0 <= tok < T.encoding(t).vocab_size for tok in tokens)
    assert T.decode(t, tokens) == value
    assert T.contains(t, value)
