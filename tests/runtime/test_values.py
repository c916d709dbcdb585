"""Program inputs: parsing, checking with named errors, domain enumeration, formatting."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from circ.lang import layout
from circ.lang import types as T
from circ.runtime.values import (
    InputError,
    domain_batch,
    format_value,
    from_batch,
    load_json,
    rows_from_assignments,
    rows_from_jsonl,
    to_batch,
)

PARAMS = [("x", T.ModT(97)), ("p", T.TupleT((T.BOOL, T.COLOR))), ("g", T.GridT(2, 2))]


def test_assignments_in_circ_syntax() -> None:
    [row] = rows_from_assignments(["x=3", "p=(true, 4)", "g=[[1, 2], [3, 4]]"], PARAMS)
    assert row == {"x": 3, "p": (True, 4), "g": [[1, 2], [3, 4]]}
    batch = to_batch([row], PARAMS)
    assert [b.tolist() for b in batch] == [[[3]], [[1, 4]], [[1, 2, 3, 4]]]
    assert from_batch(T.TupleT((T.BOOL, T.COLOR)), batch[1]) == [(True, 4)]


@pytest.mark.parametrize(
    ("assignments", "message"),
    [
        (["x=120", "p=(true, 4)", "g=[[1,2],[3,4]]"], "x: expected Mod[97] (0..96), got 120"),
        (["x=1", "p=(1, 4)", "g=[[1,2],[3,4]]"], "p[0]: expected true or false, got 1"),
        (["x=1", "p=(true, 4)", "g=[[1,2]]"], "g: expected Grid[2, 2] (2 rows), got 1 rows"),
        (["x=1", "p=(true, 4)", "g=[[1,2],[3,14]]"], "g[1][1]: expected Color (0..9), got 14"),
        (["x=1", "p=(true, 4)"], "g: missing (give every parameter: x, p, g)"),
        (["y=1"], "y: no such parameter (the program takes x, p, g)"),
        (["x=1", "x=2"], "x: given twice"),
        (["x 1"], "'x 1': write inputs as NAME=VALUE, e.g. x=3"),
        (["x=[1,"], "x: cannot read '[1,' as a value (column 4: expecting value)"),
    ],
)
def test_bad_inputs_name_the_parameter(assignments: list[str], message: str) -> None:
    with pytest.raises(InputError) as caught:
        rows_from_assignments(assignments, PARAMS)
    assert str(caught.value) == message


def test_jsonl_rows_and_their_errors(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        '{"x": 1, "p": [false, 0], "g": [[0,0],[0,0]]}\n\n{"x": 2, "p": [true, 9], "g": [[9,9],[9,9]]}\n'
    )
    rows = rows_from_jsonl(path, PARAMS)
    assert [r["x"] for r in rows] == [1, 2] and rows[1]["p"] == (True, 9)
    path.write_text(
        '{"x": 1, "p": [false, 0], "g": [[0,0],[0,0]]}\n{"x": 99, "p": [true, 9], "g": [[9,9],[9,9]]}\n'
    )
    with pytest.raises(InputError, match=r"rows.jsonl:2: x: expected Mod\[97\] \(0..96\), got 99"):
        rows_from_jsonl(path, PARAMS)
    path.write_text("[1, 2]\n")
    with pytest.raises(InputError, match=r"rows.jsonl:1: each line must be an object"):
        rows_from_jsonl(path, PARAMS)


def test_domain_is_every_input_once_in_token_order() -> None:
    params = [("a", T.IntT(-1, 1)), ("b", T.SeqT(T.BOOL, 2))]
    a, b = domain_batch(params)
    assert a.shape == (12, 1) and b.shape == (12, 2)
    pairs = list(zip(a[:, 0].tolist(), map(tuple, b.tolist()), strict=True))
    assert len(set(pairs)) == 12
    assert pairs[:3] == [(-1, (0, 0)), (-1, (0, 1)), (-1, (1, 0))]


def test_too_large_a_domain_is_refused() -> None:
    with pytest.raises(InputError, match="the input domain has 10\\^25 values"):
        domain_batch([("g", T.GridT(5, 5))])


def test_format_value_is_circ_syntax() -> None:
    assert format_value((True, [1, 2], [[3]])) == "(true, [1, 2], [[3]])"


# scalars, sequences of scalars, grids, and structures of them nested in each other
BATCHED_TYPES = [
    T.BOOL,
    T.ModT(97),
    T.IntT(-3, 3),
    T.SeqT(T.COLOR, 6),
    T.SeqT(T.BOOL, 3),
    T.GridT(2, 3),
    T.TupleT((T.BOOL, T.COLOR)),
    T.TupleT((T.GridT(2, 2), T.SeqT(T.TupleT((T.IntT(-3, 3), T.BOOL)), 2))),
    T.SeqT(T.SeqT(T.COLOR, 2), 3),
    T.SeqT(T.GridT(1, 2), 2),
]


@pytest.mark.parametrize("t", BATCHED_TYPES, ids=str)
def test_from_batch_gives_each_rows_value_as_unflattening_it_would(t: T.Type) -> None:
    """Column blocks at a time, the same values of the same Python types (bool not int, tuple not
    list: compared by repr) as rebuilding each row, also from a column slice of a wider batch."""
    g = torch.Generator().manual_seed(len(T.parts(t)))
    leaves = [torch.randint(leaf.low, leaf.high + 1, (40,), generator=g) for leaf in T.parts(t)]
    wide = torch.stack([torch.zeros(40, dtype=torch.long), *leaves, torch.ones(40, dtype=torch.long)], 1)
    batch = wide[:, 1:-1]  # not contiguous
    want = [layout.unflatten(t, row) for row in batch.tolist()]
    assert repr(from_batch(t, batch)) == repr(want)
    assert from_batch(t, batch[:0]) == []


def test_numbers_of_more_than_20_digits_are_refused_wherever_they_are() -> None:
    """The digit-counting decoder runs only on texts with a run of 21 digits: the boundary holds
    either way, and such a run inside a string refuses nothing."""
    assert load_json('{"x": ' + "9" * 20 + "}") == {"x": int("9" * 20)}
    for text in ('{"x": ' + "1" * 21 + "}", "[1, [2, -" + "3" * 40 + "]]"):
        with pytest.raises(InputError, match="digits: inputs are 64-bit integers"):
            load_json(text)
    assert load_json('{"x": "' + "1" * 30 + '", "y": 3}') == {"x": "1" * 30, "y": 3}
    with pytest.raises(InputError, match="y: given twice"):
        load_json('{"y": 1, "y": 2}')


@pytest.mark.parametrize("t", [*BATCHED_TYPES, T.TupleT((T.COLOR, T.SeqT(T.COLOR, 2)))], ids=str)
def test_to_batch_lays_values_out_as_flattening_each_would(t: T.Type) -> None:
    """Whole nested lists through torch, or (a ragged tuple) leaf by leaf: the same columns as
    `layout.flatten` a row, from lists or tuples alike, and no rows at all."""
    g = torch.Generator().manual_seed(len(T.parts(t)))
    batch = torch.stack(
        [torch.randint(leaf.low, leaf.high + 1, (30,), generator=g) for leaf in T.parts(t)], 1
    )
    values = from_batch(t, batch)
    as_tuples = [tuple(v) if isinstance(v, list) else v for v in values]
    for given in (values, as_tuples):
        got = to_batch([{"v": v} for v in given], [("v", t)])[0]
        assert got.dtype == torch.long and torch.equal(got, batch)
        assert torch.equal(got, torch.tensor([layout.flatten(t, v) for v in given]))
    assert to_batch([], [("v", t)])[0].numel() == 0
