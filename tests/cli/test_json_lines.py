"""`--json` lines are assembled from each column's text: the same text as `json.dumps` of a dict a
row, on every example (tuples, booleans, grids, failed contracts, traces) and on types whose `str`
differs from their JSON."""

from __future__ import annotations

import json

import pytest
import torch

from circ import api
from circ.cli.show_run import _columns, _leaf_texts, _template, json_lines, row_contracts, step_json
from circ.lang import layout
from circ.lang import types as T
from circ.runtime.trace import trace_row

from support import example_files, random_batch, shipped_or_skip


def dumped(ran: api.Ran, traces: bool) -> list[str]:
    """The plain way: a dict a row, through `json.dumps`."""
    inputs, outputs, confidence = _columns(ran)
    status = row_contracts(ran).status
    lines = []
    for row in range(ran.rows):
        record = {
            "inputs": {name: column[row] for (name, _), column in zip(ran.params, inputs, strict=True)},
            "output": outputs[row],
            "confidence": confidence[row],
            "contract": status[row],
        }
        if traces:
            record["trace"] = [step_json(s) for s in trace_row(ran.graph, ran.execution, row)]
        lines.append(json.dumps(record))
    return lines


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_json_lines_are_json_dumps_text_on_every_example(path, stdlib_provider) -> None:
    compiled = api.compile(path)
    shipped_or_skip(compiled.optimized, stdlib_provider)
    batch = random_batch(list(compiled.checked.function("main").signature.params), 60, seed=3)
    for traces in (False, True):
        rows = [x[:4] for x in batch] if traces else batch
        ran = api.run(compiled, rows, stdlib_provider, trace=traces)
        lines = json_lines(ran, row_contracts(ran), traces=traces)
        assert lines == dumped(ran, traces)
        assert all(json.loads(line)["contract"] for line in lines)


# some rows break the contract, and a Bool output (JSON's true / false) in a tuple
FAILING = """use stdlib.colors;
fn main(x: Color, y: Color) -> (Color, Bool)
  requires x != 3
  ensures result.0 < 6
{ (color_max(x, y), color_eq(x, y)) }
"""


def test_json_lines_report_failed_contracts_as_json_dumps_would(stdlib_provider) -> None:
    compiled = api.compile("failing.circ", source=FAILING)
    batch = random_batch(list(compiled.checked.function("main").signature.params), 300, seed=1)
    ran = api.run(compiled, batch, stdlib_provider)
    lines = json_lines(ran, row_contracts(ran))
    assert lines == dumped(ran, False)
    assert len({json.loads(line)["contract"] for line in lines}) == 3  # held, broken, not required


@pytest.mark.parametrize(
    ("t", "values"),
    [
        (T.BOOL, [True, False]),
        (T.SeqT(T.BOOL, 2), [[True, False]]),
        (T.TupleT((T.BOOL, T.IntT(-3, 3))), [(True, -3), (False, 0)]),
        (T.TupleT((T.COLOR,)), [(4,)]),  # a one-item tuple: str would write "(4,)"
        (T.SeqT(T.TupleT((T.COLOR,)), 2), [[(1,), (2,)]]),
        (
            T.TupleT((T.GridT(1, 2), T.SeqT(T.TupleT((T.BOOL, T.COLOR)), 2))),
            [([[1, 2]], [(True, 3), (False, 9)])],
        ),
        (T.SeqT(T.COLOR, 3), [[0, 1, 2]]),
        (T.GridT(2, 2), [[[1, 2], [3, 4]]]),
        (T.IntT(-(10**6), 10**6), [-(10**6), 0, 999_999]),  # too wide for a table of texts
    ],
    ids=str,
)
def test_each_type_s_template_filled_with_its_leaves_is_its_json(t: T.Type, values: list[object]) -> None:
    batch = torch.tensor([layout.flatten(t, v) for v in values])
    texts = _leaf_texts(t, batch)
    filled = [_template(t) % row for row in zip(*texts, strict=True)]
    assert filled == [json.dumps(v) for v in values]


def test_a_value_outside_its_type_is_written_as_it_is() -> None:
    """Never expected, but a table lookup would wrap a negative offset round to another value."""
    assert _leaf_texts(T.IntT(-3, 3), torch.tensor([[-4], [3], [5]])) == [["-4", "3", "5"]]
