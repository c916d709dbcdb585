"""Contracts offered for a task's circuit hold on the task, or are not offered."""

from __future__ import annotations

import pytest

from circ import contracts
from circ.contracts import declaration, identifier, task_contract
from circ.learn.data import get_task


@pytest.mark.parametrize(
    ("task", "params", "clause", "checked_on"),
    [
        ("mod_div", {"p": 7}, "requires b != 0", "all 42 inputs"),  # b = 0 is outside the task's domain
        ("color_recolor", {"a": 3, "b": 4}, "ensures result == (if c == 3 then 4 else c)", "all 10 inputs"),
        (
            "seq_rotate_right",
            {"n": 3},
            "ensures forall i in 0..3: result[i] == xs[(i + 2) % 3]",
            "all 1,000 inputs",
        ),
        ("seq_parity", {"n": 2}, "ensures result == ((xs[0] + xs[1]) % 2 == 1)", "all 100 inputs"),
        ("grid_rot90", {"h": 2, "w": 3}, "result[r, c] == g[1 - c, r]", "all 1,000,000 inputs"),
        (
            "grid_rot90",
            {"h": 5, "w": 5},
            "result[r, c] == g[4 - c, r]",
            "proved on all 10^25 inputs (Z3)",
        ),
    ],
)
def test_a_tasks_contract_is_checked_on_the_task(task, params, clause, checked_on) -> None:
    found = task_contract(get_task(task, **params))
    assert found is not None and found.checked_on == checked_on
    assert any(clause in c for c in found.clauses)


def test_no_contract_is_offered_where_none_is_known_or_it_would_not_hold(monkeypatch) -> None:
    assert task_contract(get_task("seq_histogram")) is None
    assert task_contract(get_task("compose(color_succ,color_succ)")) is None
    wrong = dict(contracts._CONTRACTS)
    wrong["color_succ"] = (("c",), lambda q: ["ensures result == (c + 2) % 10"])
    monkeypatch.setattr(contracts, "_CONTRACTS", wrong)
    assert task_contract(get_task("color_succ")) is None
    # a clause with no value on the task's inputs (an index past the result) is broken, not vacuous
    wrong["seq_reverse"] = (("xs",), lambda q: ["ensures forall i in 0..9: result[i] == xs[3 - i]"])
    assert task_contract(get_task("seq_reverse", n=4)) is None


def test_the_declaration_checks_and_names_the_contracts_variables() -> None:
    task = get_task("mod_sub", p=11)
    text = declaration("minus", "mine.sub", task, task_contract(task).clauses)
    assert text == (
        "circuit minus(a: Mod[11], b: Mod[11]) -> Mod[11]\n"
        "  ensures result == (a - b) % 11\n"
        '  learned "mine.sub";'
    )
    contracts.checked_declaration(text)  # type-checks as written


def test_identifiers_from_catalog_names() -> None:
    assert identifier("mod97.add") == "add" and identifier("my-net.v2-best") == "v2_best"
    assert identifier("x.3d") == "c_3d" and identifier("plain@4") == "plain"
