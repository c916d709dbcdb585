"""Hypothesis strategies from circ types (STYLE 11): values are built inside their ranges, never
filtered, and shrink towards the low end of each scalar."""

from __future__ import annotations

from hypothesis import strategies as st

from circ.lang import types as T


def strategy(t: T.Type) -> st.SearchStrategy:
    if isinstance(t, T.BoolT):
        return st.booleans()
    if isinstance(t, T.ScalarT):
        return st.integers(t.low, t.high)
    if isinstance(t, T.SeqT):
        return st.lists(strategy(t.elem), min_size=t.n, max_size=t.n)
    if isinstance(t, T.GridT):
        row = st.lists(strategy(T.COLOR), min_size=t.w, max_size=t.w)
        return st.lists(row, min_size=t.h, max_size=t.h)
    if isinstance(t, T.TupleT):
        return st.tuples(*(strategy(item) for item in t.items))
    raise TypeError(f"{t} has no values to generate")


def arguments(params: list[tuple[str, T.Type]]) -> st.SearchStrategy:
    """One value per parameter, as a dict by name."""
    return st.fixed_dictionaries({name: strategy(t) for name, t in params})
