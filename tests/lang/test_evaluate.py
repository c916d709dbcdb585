"""Contract evaluation: the semantics traces and reference checks rely on."""

from __future__ import annotations

import pytest

from circ.lang.evaluate import Undefined, euclid_div, euclid_mod, evaluate, satisfied
from circ.lang.parser import parse


def contract(text: str):
    module = parse(f'circuit f(a: Mod[7], xs: Seq[Color, 3]) -> Mod[7]\n  {text}\n  learned "t.f";')
    return module.items[0]


def test_division_and_remainder_are_euclidean_like_z3() -> None:
    assert [euclid_mod(a, b) for a, b in [(7, 3), (-7, 3), (7, -3), (-7, -3)]] == [1, 2, 1, 2]
    assert [euclid_div(a, b) for a, b in [(7, 3), (-7, 3), (7, -3), (-7, -3)]] == [2, -3, -2, 3]
    with pytest.raises(Undefined):
        euclid_mod(1, 0)


def test_expressions() -> None:
    decl = contract("ensures forall i in 0..3: xs[i] <= 9 and (if a == 0 then true else result != 8)")
    expr = decl.contracts[0].expr
    assert evaluate(expr, {"a": 0, "xs": [1, 2, 3], "result": 8}) is True
    assert evaluate(expr, {"a": 1, "xs": [1, 2, 3], "result": 8}) is False


def test_satisfied_respects_requires() -> None:
    decl = contract("requires a != 0\n  ensures (result * a) % 7 == 1")
    assert satisfied(decl, [3, [0, 0, 0]], 5) is True  # 3 · 5 = 15 ≡ 1
    assert satisfied(decl, [3, [0, 0, 0]], 4) is False
    assert satisfied(decl, [0, [0, 0, 0]], 4) is None, "outside `requires` nothing is promised"


def test_out_of_range_index_is_undefined_not_false() -> None:
    decl = contract("ensures xs[a] == result")
    assert satisfied(decl, [5, [0, 0, 0]], 0) is None
