"""Deeply nested programs compile (past the default recursion limit), and one nested beyond what
the recursive stages can follow is a one-line user error, not a traceback."""

from __future__ import annotations

import sys

import pytest

from circ import api
from circ.compiler import nodes as N


def nested(depth: int) -> str:
    expr = "x"
    for _ in range(depth):
        expr = f"add({expr}, 1)"
    return "use stdlib.modular;\nfn main(x: Mod[97]) -> Mod[97] { " + expr + " }\n"


def test_a_thousand_nested_calls_compile() -> None:
    limit = sys.getrecursionlimit()
    compiled = api.compile("deep.circ", source=nested(1000))
    calls = [n for n, op in compiled.graph.nodes(data=N.OP) if op == "circuit"]
    assert len(calls) == 1000
    assert sys.getrecursionlimit() == limit  # restored


def test_nesting_beyond_the_limit_is_a_user_error(monkeypatch) -> None:
    monkeypatch.setattr(api, "RECURSION_LIMIT", 1500)
    monkeypatch.setattr(sys, "getrecursionlimit", lambda: 1000)  # the limit api restores afterwards
    with pytest.raises(api.TooDeep, match=r"deep.circ: expressions nest too deeply"):
        api.compile("deep.circ", source=nested(2000))
