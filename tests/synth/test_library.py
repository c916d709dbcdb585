"""Library learning: the sub-programs solutions share become functions of a generated module, and a
later search that has them finds a shorter program with fewer candidates."""

from __future__ import annotations

from circ import api
from circ.synth.library import learn_library
from circ.synth.problems import Problem, generalises
from circ.synth.search import Budget
from circ.synth.synthesize import synthesize

GRIDS = ("grids", "colors")
GRID = "(g: Grid[5, 5]) -> Grid[5, 5]"


def solve(make_spec, catalog, body: str, library: str = ""):
    problem = Problem("solve", GRIDS, GRID, body, 3)
    result = synthesize(make_spec(problem, library), catalog, Budget(6, 60), verify=False)
    assert result.found, result.summary()
    assert generalises(problem, result.program, catalog)
    return result


def test_shared_sub_programs_become_functions_that_shorten_later_searches(make_spec, catalog) -> None:
    solved = [
        solve(make_spec, catalog, "map(compose(color_succ, color_succ), hmirror(g))"),
        solve(make_spec, catalog, "map(compose(color_succ, color_succ), rot90(g))"),
    ]
    library = learn_library([(r.spec, r.term) for r in solved])
    texts = {f.name: f.text for f in library.fns}
    expected = "fn lib_color_succ_color_succ(x0: Color) -> Color { color_succ(color_succ(x0)) }"
    assert texts["lib_color_succ_color_succ"] == expected
    assert all(f.uses == 2 for f in library.fns)
    api.check("learned.circ", library.text)  # the module checks on its own: it `use`s the stdlib

    body = "map(compose(color_succ, color_succ), rot180(hmirror(g)))"
    alone = solve(make_spec, catalog, body)
    helped = solve(make_spec, catalog, body, library.text)
    assert helped.term.size < alone.term.size and helped.candidates < alone.candidates
    assert helped.term.globals() & set(texts)  # it calls a learned function…
    assert helped.term.depth == alone.term.depth == 3  # …which the depth counts inlined
    for name in helped.term.globals() & set(texts):
        assert texts[name] in helped.program  # and the saved program carries its definition


def test_nothing_is_learned_from_one_solution_or_from_leaves(make_spec, catalog) -> None:
    one = solve(make_spec, catalog, "rot90(hmirror(g))")
    assert learn_library([(one.spec, one.term)]).fns == ()
    assert learn_library([(one.spec, one.term)] * 2, min_uses=2).text == ""  # dmirror(g): too small
