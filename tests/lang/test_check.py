"""The type checker: signatures, combinator typing, contracts, warnings, modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from circ.lang import ast
from circ.lang import types as T
from circ.lang.check import Checked, check
from circ.lang.diagnostics import CircError
from circ.lang.modules import load, load_text

from support import example_files

PRELUDE = """
circuit inc(c: Color) -> Color ensures result == (c + 1) % 10 learned "t.inc";
circuit plus(a: Color, b: Color) -> Color ensures result == (a + b) % 10 learned "t.plus";
circuit dark(c: Color) -> Bool ensures result == (c == 0) learned "t.dark";
circuit count(n: Int[0, 6], c: Color) -> Int[0, 6] learned "t.count";
"""


def checked(body: str) -> Checked:
    return check(load_text(PRELUDE + body, "t.circ"))


def errors(body: str) -> list[str]:
    with pytest.raises(CircError) as caught:
        checked(body)
    return [d.message for d in caught.value.diagnostics]


def result_type(body: str, fn: str = "main") -> T.Type:
    """The type the checker gave the result expression of `fn`."""
    c = checked(body)
    decl = c.function(fn).decl
    return c.types[decl.body.result]


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_examples_check_cleanly(path: Path, in_examples) -> None:
    c = check(load(path.name))
    assert c.function("main") is not None
    assert [w for w in c.warnings if w.span.path == path.name] == []


# --- combinators ------------------------------------------------------------------------------


def test_map_over_seq_changes_the_element_type() -> None:
    assert result_type("fn main(xs: Seq[Color, 4]) -> Seq[Bool, 4] { map(dark, xs) }") == T.SeqT(T.BOOL, 4)


def test_map_over_grid_is_cellwise() -> None:
    assert result_type("fn main(g: Grid[2, 3]) -> Grid[2, 3] { map(inc, g) }") == T.GridT(2, 3)


def test_map_over_grid_needs_a_color_function() -> None:
    [message] = errors("fn main(g: Grid[2, 3]) -> Grid[2, 3] { map(dark, g) }")
    assert message == "`map` over Grid[2, 3] needs a function returning Color, but this returns Bool"


def test_map_needs_a_collection() -> None:
    [message] = errors("fn main(c: Color) -> Color { map(inc, c) }")
    assert message == "`map` needs a Seq or a Grid, but this is Color"


def test_zip_with_pairs_elements() -> None:
    body = "fn main(xs: Seq[Color, 3], ys: Seq[Color, 3]) -> Seq[Color, 3] { zip_with(plus, xs, ys) }"
    assert result_type(body) == T.SeqT(T.COLOR, 3)


def test_zip_with_needs_equal_shapes() -> None:
    body = "fn main(xs: Seq[Color, 3], ys: Seq[Color, 4]) -> Seq[Color, 3] { zip_with(plus, xs, ys) }"
    [message] = errors(body)
    assert message == "zip_with needs two collections of one shape: Seq[Color, 3] and Seq[Color, 4]"


def test_fold_returns_the_accumulator_type() -> None:
    body = "fn main(xs: Seq[Color, 6]) -> Int[0, 6] { fold(count, 0, xs) }"
    assert result_type(body) == T.IntT(0, 6)


def test_fold_checks_the_initial_value_against_the_accumulator() -> None:
    [message] = errors("fn main(xs: Seq[Color, 6]) -> Int[0, 6] { fold(count, 7, xs) }")
    assert message == "7 is out of range for Int[0, 6] (0..6)"


def test_compose_is_f_after_g() -> None:
    c = checked("fn main(c: Color) -> Bool { let h = compose(dark, inc); h(c) }")
    let = c.function("main").decl.body.lets[0]
    assert c.types[let.value] == T.FnT((T.COLOR,), T.BOOL)


def test_user_functions_are_values_for_combinators() -> None:
    body = (
        "fn twice(c: Color) -> Color { inc(inc(c)) }\n"
        "fn main(xs: Seq[Color, 2]) -> Seq[Color, 2] { map(twice, xs) }"
    )
    assert result_type(body) == T.SeqT(T.COLOR, 2)


def test_combinator_arity() -> None:
    [message] = errors("fn main(xs: Seq[Color, 2]) -> Seq[Color, 2] { map(inc) }")
    assert message == "`map` takes 2 arguments: map(f, xs)"


# --- literals, tuples, indexing -------------------------------------------------------------


def test_literals_take_the_expected_type() -> None:
    assert result_type("fn main(c: Color) -> Seq[Color, 3] { [c, 0, 9] }") == T.SeqT(T.COLOR, 3)
    assert result_type("fn main(c: Color) -> Grid[2, 2] { [[c, 1], [2, c]] }") == T.GridT(2, 2)
    assert result_type("fn main(c: Color) -> Int[-2, 2] { -2 }") == T.IntT(-2, 2)


def test_literal_out_of_range_names_the_range() -> None:
    [message] = errors("fn main(c: Color) -> Seq[Color, 2] { [c, 10] }")
    assert message == "10 is out of range for Color (0..9)"


def test_grid_literal_needs_the_right_rows() -> None:
    [message] = errors("fn main(c: Color) -> Grid[2, 2] { [[c, c]] }")
    assert message == "Grid[2, 2] needs 2 rows, this literal has 1"


def test_tuples_and_projection() -> None:
    assert result_type("fn main(c: Color, b: Bool) -> Bool { (c, b).1 }") == T.BOOL


def test_grid_index_with_one_index_is_a_row() -> None:
    assert result_type("fn main(g: Grid[2, 3]) -> Seq[Color, 3] { g[1] }") == T.SeqT(T.COLOR, 3)
    assert result_type("fn main(g: Grid[2, 3]) -> Color { g[1, 2] }") == T.COLOR


def test_if_needs_bool_and_unifies_branches() -> None:
    assert result_type("fn main(c: Color) -> Color { if dark(c) then 5 else inc(c) }") == T.COLOR


def test_aliases_resolve_in_order_and_reject_cycles() -> None:
    assert result_type("type R = Seq[C, 2];\ntype C = Color;\nfn main(r: R) -> C { r[0] }") == T.COLOR
    assert (
        errors("type A = B;\ntype B = A;\nfn main(x: Bool) -> Bool { x }")[0]
        == "type alias `A` refers to itself"
    )


# --- contracts --------------------------------------------------------------------------------


def test_contracts_are_boolean_and_may_use_params_and_result() -> None:
    c = checked(
        "fn main(xs: Seq[Color, 3]) -> Seq[Color, 3]\n"
        "  requires xs[0] < 9\n"
        "  ensures forall i in 0..3: result[i] == (xs[i] + 1) % 10 and not (result == xs)\n"
        "{ map(inc, xs) }"
    )
    contract = c.function("main").decl.contracts[1]
    assert c.types[contract.expr] == T.BOOL


def test_contract_comparisons_need_compatible_types() -> None:
    [message] = errors("fn main(xs: Seq[Color, 3]) -> Color ensures result == xs { xs[0] }")
    assert message == "cannot compare Color with Seq[Color, 3]"


def test_logic_needs_bools() -> None:
    [message] = errors("fn main(c: Color) -> Color ensures c and true { c }")
    assert message == "`and` must be Bool, but this is Color"


def test_forall_is_contract_only() -> None:
    [message] = errors("fn main(c: Color) -> Bool { forall i in 0..2: true }")
    assert message == "`forall` can only be used in contracts"


# --- names, recursion, warnings ---------------------------------------------------------------


def test_mutual_recursion_is_an_error() -> None:
    [message] = errors("fn a(c: Color) -> Color { b(c) }\nfn b(c: Color) -> Color { a(c) }")
    assert message == "recursion is not allowed: `a` → `b` → `a`"


def test_unused_let_and_param_and_shadowing_are_warnings() -> None:
    c = checked(
        "fn main(c: Color, unused: Bool) -> Color {\n"
        "  let spare = inc(c);\n"
        "  let c = inc(c);\n"
        "  let inc: Color = 3;\n"
        "  c\n"
        "}"
    )
    messages = [(w.severity, w.message) for w in c.warnings]
    assert ("warning", "parameter `unused` is never used") in messages
    assert ("warning", "`spare` is never used") in messages
    assert any(m.startswith("`c` shadows the parameter") for _, m in messages)
    assert ("warning", "`inc` shadows the circuit `inc`") in messages


def test_did_you_mean_for_unknown_names() -> None:
    with pytest.raises(CircError) as caught:
        checked("fn main(color: Color) -> Color { inc(colr) }")
    assert caught.value.diagnostics[0].notes == ("did you mean `color`?",)


# --- modules ----------------------------------------------------------------------------------


def test_relative_modules_and_no_reexport(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "shapes.circ").write_text(
        'use stdlib.colors;\ncircuit flip(g: Grid[2, 2]) -> Grid[2, 2] learned "t.flip";\n'
    )
    main = tmp_path / "main.circ"
    main.write_text("use lib.shapes;\nfn main(g: Grid[2, 2]) -> Grid[2, 2] { flip(g) }\n")
    c = check(load(main))
    assert str(c.function("main").signature) == "main(g: Grid[2, 2]) -> Grid[2, 2]"
    # colors are used by lib.shapes, but not re-exported to main
    main.write_text("use lib.shapes;\nfn main(c: Color) -> Color { color_succ(c) }\n")
    with pytest.raises(CircError) as caught:
        check(load(main))
    assert caught.value.diagnostics[0].message == "unknown function `color_succ`"


def test_a_name_from_two_modules_is_ambiguous(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.circ").write_text('circuit same(c: Color) -> Color learned "t.same";\n')
    main = tmp_path / "main.circ"
    main.write_text("use a;\nuse b;\nfn main(c: Color) -> Color { same(c) }\n")
    with pytest.raises(CircError) as caught:
        check(load(main))
    assert caught.value.diagnostics[0].message.startswith("`same` is defined both here and in")


def test_stdlib_modules_check_cleanly() -> None:
    from circ.lang.modules import stdlib_dir

    for path in sorted(stdlib_dir().glob("*.circ")):
        c = check(load(path))
        circuits = [s for s in c.symbols(c.program.root) if s.kind == "circuit"]
        assert circuits and all(isinstance(s.decl, ast.CircuitDecl) and s.decl.learned for s in circuits)
