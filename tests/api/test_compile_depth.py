"""Nested programs compile up to the parser's explicit nesting limit (a located error beyond it), and
the recursive stages run under a raised recursion limit whose overflow is a one-line user error."""

from __future__ import annotations

import sys

import pytest

from circ import api
from circ.compiler import nodes as N
from circ.lang import parser
from circ.lang.diagnostics import CircError
from circ.lang.limits import MAX_NESTING


def nested(depth: int) -> str:
    expr = "x"
    for _ in range(depth):
        expr = f"add({expr}, 1)"
    return "use stdlib.modular;\nfn main(x: Mod[97]) -> Mod[97] { " + expr + " }\n"


def test_nested_calls_compile_up_to_the_nesting_limit() -> None:
    limit = sys.getrecursionlimit()
    compiled = api.compile("deep.circ", source=nested(60))
    calls = [n for n, op in compiled.graph.nodes(data=N.OP) if op == "circuit"]
    assert len(calls) == 60
    assert sys.getrecursionlimit() == limit  # restored
    with pytest.raises(CircError, match=f"nested more than {MAX_NESTING} levels deep"):
        api.compile("deep.circ", source=nested(1000))


def test_nesting_beyond_the_limit_is_a_user_error(monkeypatch) -> None:
    monkeypatch.setattr(parser, "MAX_NESTING", 10**6)  # past the parser's own limit
    monkeypatch.setattr(api, "RECURSION_LIMIT", 1500)
    monkeypatch.setattr(sys, "getrecursionlimit", lambda: 1000)  # the limit api restores afterwards
    with pytest.raises(api.TooDeep, match=r"deep.circ: expressions nest too deeply"):
        api.compile("deep.circ", source=nested(2000))
