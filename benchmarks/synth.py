"""`circ synth` on 53 problems over the stdlib: solved count, time and program sizes, without and with
library learning.

Each problem is a hidden program (`circ.synth.problems`) of depth 1–6 (the longest chain of circuit
calls; 2–6 counting `if`): its examples are the hidden program's outputs on seeded inputs under the
reference semantics (3–5 pairs for grids, as ARC gives them), some with a contract too. A problem
is *solved* when the search finds a program that `circ verify` does not refute and that computes what
the hidden one does on 50 held-out inputs. Round 1 searches with
the stdlib alone; then a library is learned (`circ.synth.library`) from the round-1 solutions of one
half of the problems and used on the other half, and vice versa (two folds, so no problem is helped
by its own solution), and round 2 searches again.

    python benchmarks/synth.py [--timeout 60] [--max-size 8] [--only NAME] [--libraries DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from circ import api
from circ.learn.catalog import Catalog
from circ.learn.catalog.provider import CatalogProvider
from circ.settings import packaged_catalog_dir
from circ.synth.library import Library, learn_library
from circ.synth.problems import Problem, circuit_mistakes, generalises, spec_source
from circ.synth.search import Budget
from circ.synth.space import chain_depth
from circ.synth.spec import spec_from_text
from circ.synth.synthesize import Synthesis, synthesize
from circ.synth.terms import Term

GRID, SEQ, MOD, COLOR = "grid", "seq", "mod", "colour"
G = ("grids", "colors")
S = ("sequences", "colors")
GSIG = "(g: Grid[5, 5]) -> Grid[5, 5]"
SSIG = "(xs: Seq[Color, 6]) -> Seq[Color, 6]"
M1, M2 = "(a: Mod[97]) -> Mod[97]", "(a: Mod[97], b: Mod[97]) -> Mod[97]"

PROBLEMS: list[tuple[str, Problem]] = [
    # arc-dsl-style grid puzzles: symmetries, recolourings and their compositions, 3–5 pairs each
    (GRID, Problem("g_rot90_hmirror", G, GSIG, "rot90(hmirror(g))", 3)),
    (GRID, Problem("g_vmirror_rot90", G, GSIG, "vmirror(rot90(g))", 3)),
    (GRID, Problem("g_succ_rot180", G, GSIG, "map(color_succ, rot180(g))", 3)),
    (GRID, Problem("g_recolor_dmirror", G, GSIG, "recolor_grid_1_2(dmirror(g))", 3)),
    (GRID, Problem("g_pred_vmirror", G, GSIG, "map(color_pred, vmirror(g))", 4)),
    (GRID, Problem("g_symmetrize_h", G, GSIG, "zip_with(color_max, g, hmirror(g))", 3)),
    (GRID, Problem("g_symmetrize_d", G, GSIG, "zip_with(color_max, g, dmirror(g))", 3)),
    (GRID, Problem("g_min_rot180", G, GSIG, "zip_with(color_min, g, rot180(g))", 4)),
    (GRID, Problem("g_succ_twice", G, GSIG, "map(compose(color_succ, color_succ), g)", 3)),
    (GRID, Problem("g_rot_recolor_mirror", G, GSIG, "rot90(map(recolor_1_2, hmirror(g)))", 4)),
    (GRID, Problem("g_succ_recolor_rot270", G, GSIG, "map(color_succ, recolor_grid_1_2(rot270(g)))", 4)),
    (GRID, Problem("g_mirror_of_symmetric", G, GSIG, "hmirror(zip_with(color_max, g, vmirror(g)))", 3)),
    (GRID, Problem("g_transpose_pred_recolor", G, GSIG, "dmirror(map(color_pred, recolor_grid_1_2(g)))", 4)),
    (GRID, Problem("g_add_rot90", G, GSIG, "zip_with(color_add, g, rot90(g))", 3)),
    (GRID, Problem("g_depth4", G, GSIG, "rot90(map(color_succ, rot90(map(color_succ, g))))", 4)),
    (
        GRID,
        Problem("g_depth5", G, GSIG, "hmirror(map(color_succ, vmirror(map(recolor_1_2, rot90(g)))))", 5),
    ),
    (
        GRID,
        Problem(
            "g_depth6",
            G,
            GSIG,
            "rot90(map(color_pred, dmirror(map(color_succ, hmirror(recolor_grid_1_2(g))))))",
            5,
        ),
    ),
    (
        GRID,
        Problem(
            "g_recolor_succ_recolor",
            G,
            GSIG,
            "map(compose(recolor_1_2, compose(color_succ, recolor_1_2)), rot90(g))",
            4,
        ),
    ),
    (GRID, Problem("g_max_succ_mirror", G, GSIG, "zip_with(color_max, map(color_succ, g), hmirror(g))", 4)),
    (GRID, Problem("g_succ_of_max_rot", G, GSIG, "map(color_succ, zip_with(color_max, g, rot90(g)))", 4)),
    # sequences of six colours
    (SEQ, Problem("s_reverse_succ", S, SSIG, "reverse(successor(xs))")),
    (SEQ, Problem("s_rotate2", S, SSIG, "rotate_left(rotate_left(xs))")),
    (SEQ, Problem("s_shift_reverse", S, SSIG, "shift_right(reverse(xs))")),
    (SEQ, Problem("s_add_reverse", S, SSIG, "zip_with(color_add, xs, reverse(xs))")),
    (SEQ, Problem("s_max_neighbour", S, SSIG, "zip_with(color_max, xs, rotate_left(xs))")),
    (SEQ, Problem("s_succ2_shift", S, SSIG, "successor(successor(shift_left(xs)))")),
    (SEQ, Problem("s_recolor_rotate", S, SSIG, "map(recolor_1_2, rotate_right(xs))")),
    (SEQ, Problem("s_reverse_min_shift", S, SSIG, "reverse(zip_with(color_min, xs, shift_right(xs)))")),
    (SEQ, Problem("s_depth4", S, SSIG, "successor(successor(successor(reverse(xs))))")),
    (SEQ, Problem("s_depth5", S, SSIG, "rotate_left(successor(shift_left(successor(reverse(xs)))))")),
    (
        SEQ,
        Problem(
            "s_depth6", S, SSIG, "successor(rotate_left(successor(rotate_left(successor(reverse(xs))))))"
        ),
    ),
    (
        SEQ,
        Problem(
            "s_max_of_succ",
            S,
            "(xs: Seq[Color, 6]) -> Color",
            "fold(color_max, 0, successor(xs))",
            4,
            "ensures (forall i in 0..6: result >= (xs[i] + 1) % 10)\n    and ("
            + " or ".join(f"result == (xs[{i}] + 1) % 10" for i in range(6))
            + ")",
        ),
    ),
    (
        SEQ,
        Problem(
            "s_sum_of_max_mirror",
            S,
            "(xs: Seq[Color, 6]) -> Color",
            "fold(color_add, 0, zip_with(color_max, xs, reverse(xs)))",
            6,
        ),
    ),
    (
        SEQ,
        Problem(
            "s_mirror_eq", S, "(xs: Seq[Color, 6]) -> Seq[Bool, 6]", "zip_with(color_eq, xs, reverse(xs))"
        ),
    ),
    (
        SEQ,
        Problem(
            "s_has_background",
            S,
            "(xs: Seq[Color, 6]) -> Bool",
            "fold(bool_or, false, map(is_background, xs))",
            6,
        ),
    ),
    # arithmetic modulo 97, some with a contract checked on the whole domain
    (
        MOD,
        Problem("m_square_inc", ("modular",), M1, "inc(square(a))", 4, "ensures result == (a * a + 1) % 97"),
    ),
    (MOD, Problem("m_square_of_sum", ("modular",), M2, "square(add(a, b))")),
    (MOD, Problem("m_mul_sub", ("modular",), M2, "sub(mul(a, b), a)")),
    (
        MOD,
        Problem("m_neg_sum", ("modular",), M2, "neg(add(a, b))", 4, "ensures result == (194 - a - b) % 97"),
    ),
    (MOD, Problem("m_diff_squares", ("modular",), M2, "sub(square(a), square(b))")),
    (MOD, Problem("m_square_plus_2", ("modular",), M1, "inc(inc(mul(a, a)))")),
    (
        MOD,
        Problem(
            "m_div_inc",
            ("modular",),
            M2,
            "div(a, inc(b))",
            4,
            "requires b != 96\n  ensures (result * (b + 1)) % 97 == a",
        ),
    ),
    (
        MOD,
        Problem(
            "m_equal",
            ("modular",),
            "(a: Mod[97], b: Mod[97]) -> Bool",
            "is_zero(sub(a, b))",
            4,
            "ensures result == (a == b)",
        ),
    ),
    (
        MOD,
        Problem(
            "m_guarded_mul",
            ("modular",),
            M2,
            "if is_zero(a) then b else mul(a, b)",
            4,
            "ensures result == (if a == 0 then b else (a * b) % 97)",
        ),
    ),
    (MOD, Problem("m_fourth_of_inc", ("modular",), M1, "square(square(inc(a)))")),
    (MOD, Problem("m_mul_incs", ("modular",), M2, "mul(inc(a), inc(b))")),
    (MOD, Problem("m_neg_square_diff", ("modular",), M2, "neg(square(sub(a, b)))")),
    (MOD, Problem("m_depth4", ("modular",), M1, "inc(inc(inc(square(a))))")),
    (MOD, Problem("m_depth5", ("modular",), M1, "inc(square(inc(square(inc(a)))))")),
    (MOD, Problem("m_depth6", ("modular",), M1, "square(inc(square(inc(square(inc(a))))))")),
    # single colours
    (
        COLOR,
        Problem(
            "c_succ_max",
            ("colors",),
            "(a: Color, b: Color) -> Color",
            "color_succ(color_max(a, b))",
            4,
            "ensures result == ((if a > b then a else b) + 1) % 10",
        ),
    ),
    (COLOR, Problem("c_recolor_pred", ("colors",), "(a: Color) -> Color", "recolor_1_2(color_pred(a))", 5)),
    (
        COLOR,
        Problem(
            "c_max_unless_equal",
            ("colors",),
            "(a: Color, b: Color) -> Color",
            "if color_eq(a, b) then 0 else color_max(a, b)",
            6,
            "ensures result == (if a == b then 0 else (if a > b then a else b))",
        ),
    ),
]


@dataclass
class Outcome:
    problem: Problem
    group: str
    result: Synthesis
    solved: bool  # found, not refuted, and equal to the hidden program on 50 held-out inputs
    mistakes: list[int]  # examples on which the hidden program, on the circuits, is wrong
    library: Library | None = None

    @property
    def term(self) -> Term | None:
        return self.result.term


def run(
    problem: Problem,
    group: str,
    catalog: Catalog,
    budget: Budget,
    library: Library | None,
    mistakes: list[int],
) -> Outcome:
    text = spec_source(problem, catalog)
    spec = spec_from_text(f"<{problem.name}>", text, problem.name, library.text if library else "")
    result = synthesize(spec, catalog, budget)
    solved = result.found and generalises(problem, result.program, catalog)
    return Outcome(problem, group, result, solved, mistakes, library)


def intended_depth(problem: Problem) -> int:
    checked = api.check(f"<{problem.name}>", problem.intended_program())
    return chain_depth(checked.function(problem.name), checked)


def row(o: Outcome) -> str:
    r = o.result
    found = f"{r.term.size:>2} {r.term.depth}" if r.term is not None else " -  -"
    mark = "✓" if o.solved else ("≠" if r.found else "✗")
    return f"{mark} {r.seconds:5.1f}s {found}"


def summary(outcomes: list[Outcome]) -> str:
    solved = [o for o in outcomes if o.solved]
    times = [o.result.seconds for o in outcomes]
    sizes = [o.term.size for o in solved]
    depths = [o.term.depth for o in solved]
    solved_times = statistics.median([o.result.seconds for o in solved]) if solved else 0.0
    return (
        f"solved {len(solved)}/{len(outcomes)}, median time {statistics.median(times):.1f} s "
        f"(solved only: {solved_times:.1f} s), program size median "
        f"{statistics.median(sizes) if sizes else 0} max {max(sizes, default=0)}, "
        f"depth max {max(depths, default=0)}, "
        f"{sum(o.result.candidates for o in outcomes):,} candidates evaluated"
    )


def notes(a: Outcome, b: Outcome) -> str:
    found = []
    if a.mistakes:
        found.append(f"the hidden program on the circuits is wrong on example {a.mistakes}")
    for o in (a, b):
        if o.result.verdict is not None and o.result.verdict.circuit_mistakes:
            found.append(f"circuit mistake: {o.result.verdict.circuit_mistakes[0]}")
            break
    used = sorted(b.term.globals() & {f.name for f in b.library.fns}) if b.term and b.library else []
    if used:
        found.append(f"uses {', '.join(used)}")
    return "; ".join(found)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--max-size", type=int, default=8)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--libraries", type=Path, help="save the two learned libraries here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    budget = Budget(args.max_size, args.timeout)
    chosen = [(g, p) for g, p in PROBLEMS if not args.only or p.name in args.only]
    machine = f"{os.cpu_count()} cores, {platform.machine()}, torch {torch.__version__}, one thread"
    print(
        f"{len(chosen)} problems · {machine} · load {os.getloadavg()[0]:.1f} · size ≤ {budget.max_size}, "
        f"{budget.seconds:.0f} s each",
        flush=True,
    )
    start = time.perf_counter()
    with (
        tempfile.TemporaryDirectory() as blobs,
        Catalog("sqlite://", blobs, packaged=packaged_catalog_dir()) as catalog,
    ):
        provider = CatalogProvider(catalog)
        first = []
        for group, problem in chosen:
            mistakes = circuit_mistakes(problem, catalog, provider)
            first.append(run(problem, group, catalog, budget, None, mistakes))
            print(f"  round 1  {problem.name:<26} {row(first[-1])}", flush=True)
        libraries = [_learn([o for i, o in enumerate(first) if i % 2 == k and o.solved]) for k in (0, 1)]
        if args.libraries:
            args.libraries.mkdir(parents=True, exist_ok=True)
            for k, library in enumerate(libraries):
                (args.libraries / f"fold{k}.circ").write_text(library.text)
        second = []
        for i, o in enumerate(first):
            library = libraries[1 - i % 2]  # learned from the other fold
            second.append(run(o.problem, o.group, catalog, budget, library, o.mistakes))
            print(f"  round 2  {o.problem.name:<26} {row(second[-1])}", flush=True)
    print()
    print("| problem | group | depth | examples | stdlib alone | with a library | verdict | notes |")
    print("|---|---|---|---|---|---|---|---|")
    for a, b in zip(first, second, strict=True):
        shown = b.result if b.result.found else a.result
        verdict = shown.verdict.verdict if shown.verdict is not None else "—"
        p = a.problem
        cells = [p.name, a.group, intended_depth(p), p.examples, row(a), row(b), verdict, notes(a, b)]
        print("| " + " | ".join(map(str, cells)) + " |")
    print()
    print("cells: ✓ solved / ≠ found but not the hidden program / ✗ none; seconds; size; depth")
    for k, library in enumerate(libraries):
        fns = ", ".join(f"{f.name} ({f.uses})" for f in library.fns) or "none"
        print(f"library {k}, from {library.solved} solutions of the other fold: {fns}")
    print(f"stdlib alone:   {summary(first)}")
    print(f"with a library: {summary(second)}")
    print(f"wall time {time.perf_counter() - start:.0f} s, load average at the end {os.getloadavg()[0]:.1f}")


def _learn(outcomes: list[Outcome]) -> Library:
    return learn_library([(o.result.spec, o.term) for o in outcomes if o.term is not None])


if __name__ == "__main__":
    main(sys.argv[1:])
