"""The value layout: membership, enumeration, and flatten / structure round trips for any leaves."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from circ.lang import layout
from circ.lang import types as T
from circ.verify.strategies import strategy

_scalars = st.one_of(
    st.just(T.BOOL),
    st.just(T.COLOR),
    st.integers(2, 200).map(T.ModT),
    st.tuples(st.integers(-50, 50), st.integers(0, 50)).map(lambda t: T.IntT(t[0], t[0] + t[1])),
)
TYPES = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.tuples(inner, st.integers(1, 4)).map(lambda t: T.SeqT(*t)),
        st.tuples(st.integers(1, 3), st.integers(1, 3)).map(lambda t: T.GridT(*t)),
        st.lists(inner, min_size=2, max_size=3).map(lambda items: T.TupleT(tuple(items))),
    ),
    max_leaves=6,
)


def test_membership_checks_shape_range_and_kind() -> None:
    assert layout.contains(T.ModT(7), 6) and not layout.contains(T.ModT(7), 7)
    assert not layout.contains(T.ModT(7), True), "a Bool is not a number here"
    assert not layout.contains(T.BOOL, 1)
    assert layout.contains(T.GridT(2, 3), [[1, 2, 3], [4, 5, 6]])
    assert not layout.contains(T.GridT(2, 3), [[1, 2, 3], [4, 5]])
    assert not layout.contains(T.SeqT(T.COLOR, 2), [1, 10])
    assert not layout.contains(T.SeqT(T.COLOR, 2), 5)


def test_values_enumerates_the_domain_in_token_order() -> None:
    t = T.TupleT((T.BOOL, T.IntT(0, 2)))
    everything = list(layout.values(t))
    assert len(everything) == T.domain_size(t)
    assert everything[0] == (False, 0) and everything[-1] == (True, 2)


def test_structure_rebuilds_any_leaves() -> None:
    t = T.TupleT((T.SeqT(T.COLOR, 2), T.GridT(1, 2)))
    assert layout.structure(t, ["a", "b", "c", "d"]) == (["a", "b"], [["c", "d"]])
    assert layout.leaves(t, (["a", "b"], [["c", "d"]])) == ["a", "b", "c", "d"]


@given(TYPES.flatmap(lambda t: st.tuples(st.just(t), strategy(t))))
def test_flatten_unflatten_round_trip(case) -> None:
    t, value = case
    flat = layout.flatten(t, value)
    assert len(flat) == T.width(t)
    assert all(leaf.low <= x <= leaf.high for leaf, x in zip(T.parts(t), flat, strict=True))
    assert layout.unflatten(t, flat) == layout.unflatten(t, layout.flatten(t, layout.unflatten(t, flat)))
    assert layout.contains(t, layout.unflatten(t, flat))


class _Small(int):
    """An int subclass: `contains` takes it as a number, the fast checks must defer to it."""


def _near(value: object) -> st.SearchStrategy:
    """`value` itself, or with one leaf or list swapped for something almost right: a bool, a
    float, an int subclass, a number out of range, a string, a list one item short or long, a tuple
    for a list."""
    if isinstance(value, list | tuple) and value:
        return st.integers(0, len(value) - 1).flatmap(
            lambda i: st.one_of(
                _near(value[i]).map(lambda v: type(value)([*value[:i], v, *value[i + 1 :]])),
                st.just(list(value[:-1])),
                st.just([*value, value[0]]),
                st.just(tuple(value)),
            )
        )
    wrong = st.one_of(st.booleans(), st.floats(-2, 200), st.integers(-300, 300), st.text(max_size=1))
    small = st.just(_Small(value)) if isinstance(value, int) and not isinstance(value, bool) else st.nothing()
    return st.one_of(st.just(value), wrong, small)


@given(TYPES.flatmap(lambda t: st.tuples(st.just(t), strategy(t).flatmap(_near))))
def test_the_checks_made_once_per_type_answer_as_contains_does(case) -> None:
    t, value = case
    assert layout.member(t)(value) == layout.contains(t, value)
