"""The composed side's `.circ` programs, generated for each depth and length, with contracts.

Each program calls only circuits the stdlib declares, and states what it computes as an `ensures`
that `circ verify` proves from the circuits' own contracts (Z3), so a `certified` verdict covers the
whole input domain, not the inputs that were run. The monolith trains on the learn task of the same
function (`task` beside each program), and both are scored against that task's reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from circ.lang.errors import ConfigError
from circ.learn.data import get_task
from circ.learn.data.chains import multipliers
from circ.learn.data.task import Task

P = 97
SIDE = 5  # the stdlib's grid circuits are Grid[5, 5]

# Grid steps in the order a chain of depth d takes them (cycling after 7): catalog circuit, the stdlib
# function that declares it, and its learn task. Each is a cell permutation or a recolouring, so a
# chain is one too, and its contract can say exactly which input cell each output cell shows.
GRID_STEPS: tuple[tuple[str, str, str], ...] = (
    ("grid5.rot90", "rot90", "grid_rot90"),
    ("grid5.hmirror", "hmirror", "grid_hmirror"),
    ("grid5.recolor_1_2", "recolor_grid_1_2", "grid_recolor"),
    ("grid5.vmirror", "vmirror", "grid_vmirror"),
    ("grid5.rot180", "rot180", "grid_rot180"),
    ("grid5.dmirror", "dmirror", "grid_dmirror"),
    ("grid5.rot270", "rot270", "grid_rot270"),
)
GRID_PARAMS = (("h", SIDE), ("w", SIDE), ("a", 1), ("b", 2))

# Length: the fold, its cell circuit (stdlib.colors), the fold's learn task, its contract's body.
FOLDS = {"max": ("color_max", "seq_max_tail"), "sum": ("color_add", "seq_sum_tail")}


@dataclass(frozen=True)
class Program:
    name: str  # file stem, e.g. `affine_d3`
    source: str
    task: str  # the learn task the monolith trains on (a registry name)
    params: tuple[tuple[str, int], ...]

    def build_task(self) -> Task:
        return get_task(self.task, **dict(self.params))


def affine_chain(d: int) -> Program:
    """`s_i = add(mul(a_i, s_{i-1}), y_i)` for i = 1…d over Mod[97]: 2d circuit calls."""
    a = multipliers(P, d)
    ys = [f"y{i}" for i in range(1, d + 1)]
    states = ["x", *(f"s{i}" for i in range(1, d))]  # what step i reads
    steps = [f"add(mul({a_i}, {s}), {y})" for a_i, s, y in zip(a, states, ys, strict=True)]
    body = [f"  let s{i} = {step};" for i, step in enumerate(steps[:-1], start=1)] + [f"  {steps[-1]}"]
    expr = "x"
    for a_i, y in zip(a, ys, strict=True):
        expr = f"{a_i} * {expr} + {y}" if expr == "x" else f"{a_i} * ({expr}) + {y}"
    expr = f"({expr}) % {P}"  # unreduced inside: equal mod 97, and linear for Z3
    signature = ", ".join(["x: Z", *(f"{y}: Z" for y in ys)])
    source = "\n".join(
        [
            f"# depth {d}: s ↦ a·s + y mod {P}, multipliers {', '.join(map(str, a))} (generated)",
            "use stdlib.modular;",
            "",
            f"type Z = Mod[{P}];",
            "",
            f"fn main({signature}) -> Z",
            f"  ensures result == {expr}",
            "{",
            *body,
            "}",
            "",
        ]
    )
    return Program(f"affine_d{d}", source, "mod_affine_chain", (("p", P), ("d", d)))


def grid_chain_steps(d: int) -> list[tuple[str, str, str]]:
    """The chain's steps, first applied first."""
    return [GRID_STEPS[i % len(GRID_STEPS)] for i in range(d)]


def grid_chain(d: int) -> Program:
    steps = grid_chain_steps(d)
    expr = "g"
    for _, fn, _ in steps:
        expr = f"{fn}({expr})"
    # compose(f, g) applies g first: the learn task lists the last step first
    task = f"compose({','.join(t for _, _, t in reversed(steps))})" if d > 1 else steps[0][2]
    recolours = any(t == "grid_recolor" for _, _, t in steps)
    params = tuple(kv for kv in GRID_PARAMS if recolours or kv[0] in ("h", "w"))
    program = Program(f"grid_d{d}", "", task, params)
    names = " → ".join(fn for _, fn, _ in steps)
    cell = _cell_term(program.build_task())
    source = "\n".join(
        [
            f"# depth {d}: {names} (generated)",
            "use stdlib.grids;",
            "",
            "fn main(g: Grid[5, 5]) -> Grid[5, 5]",
            f"  ensures forall r in 0..5: forall c in 0..5: result[r, c] == {cell}",
            "{",
            f"  {expr}",
            "}",
            "",
        ]
    )
    return Program(program.name, source, task, params)


def _cell_term(task: Task) -> str:
    """The contract's right-hand side for output cell (r, c): the input cell it shows, as one of the
    square's eight symmetries of (r, c), through the chain's colour map (identity, or one recolouring)."""
    cells = np.arange(SIDE * SIDE, dtype=np.int64)[None, :]
    # recolouring commutes with moving cells, so the permutation is read off a grid of cell numbers
    # with every recolouring left out, and the colour map off the constant grids
    moves = [p for p in (task.parts or (task.key,)) if not p.startswith("grid_recolor")]
    source = cells
    for key in reversed(moves):  # innermost first
        name = key.partition("[")[0]
        source = get_task(name, h=SIDE, w=SIDE)(source)
    r, c = np.divmod(source[0], SIDE)
    index = _dihedral(r, c)
    constant = task(np.repeat(np.arange(10, dtype=np.int64)[:, None], SIDE * SIDE, axis=1))[:, 0]
    changed = [(int(a), int(b)) for a, b in enumerate(constant) if a != b]
    cell = f"g[{index}]"
    if not changed:
        return cell
    if len(changed) == 1:
        (a, b) = changed[0]
        return f"(if {cell} == {a} then {b} else {cell})"
    raise ConfigError("chain", f"its colour map {changed} is not one recolouring")


def _dihedral(r: np.ndarray, c: np.ndarray) -> str:
    """Which symmetry of the square sends output cell (i, j) to input cell (r[i,j], c[i,j])."""
    i, j = np.divmod(np.arange(SIDE * SIDE), SIDE)
    n = SIDE - 1
    forms = {
        "r, c": (i, j),
        "c, r": (j, i),
        f"{n} - r, c": (n - i, j),
        f"r, {n} - c": (i, n - j),
        f"{n} - r, {n} - c": (n - i, n - j),
        f"{n} - c, r": (n - j, i),
        f"c, {n} - r": (j, n - i),
        f"{n} - c, {n} - r": (n - j, n - i),
    }
    for text, (rr, cc) in forms.items():
        if np.array_equal(rr, r) and np.array_equal(cc, c):
            return text
    raise ConfigError("chain", "its cell permutation is not a symmetry of the square")


def fold_program(kind: str, n: int, model_length: int) -> Program:
    """`fold(color_max | color_add, 0, xs)` over `Seq[Color, n]`; the monolith's task is the same fold
    at `model_length` (≥ n) with `n` live cells, so it is tested on this function at every n."""
    if kind not in FOLDS:
        raise ConfigError("fold", f"unknown {kind!r} (known: {', '.join(FOLDS)})")
    cell, task = FOLDS[kind]
    xs = [f"xs[{i}]" for i in range(n)]
    if kind == "max":
        ensures = [
            f"  ensures forall i in 0..{n}: result >= xs[i]",
            f"  ensures {' or '.join(f'result == {x}' for x in xs)}",
        ]
    else:
        ensures = [f"  ensures result == ({' + '.join(xs)}) % 10"]
    source = "\n".join(
        [
            f"# the {kind} of {n} colours as a fold of {cell} (generated)",
            "use stdlib.colors;",
            "",
            f"fn main(xs: Seq[Color, {n}]) -> Color",
            *ensures,
            "{",
            f"  fold({cell}, 0, xs)",
            "}",
            "",
        ]
    )
    return Program(f"{kind}_n{n}", source, task, (("n", model_length), ("live", n)))
