"""The contract a task's circuit can be declared with, in the style of `stdlib/*.circ`, and the
declaration to paste into a program (`circ catalog declare`).

A contract is offered only after it is checked against the task itself — on its whole domain when
that has at most `CONFORMANCE_LIMIT` inputs, else on a seeded sample, and said so — so a declaration
never promises what the circuit's task does not do. Tasks with no entry here (histograms, flood fill,
compositions) are declared without a contract.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from circ.lang import ast
from circ.lang import types as T
from circ.lang.check import check
from circ.lang.diagnostics import CircError
from circ.lang.errors import UserError
from circ.lang.modules import load_text
from circ.learn.data.task import Task

P = dict[str, int]
_EACH = "forall i in 0..{n}: "
_CELLS = "forall r in 0..{rows}: forall c in 0..{cols}: "  # over the result's cells


def _sum(n: int) -> str:
    return " + ".join(f"xs[{i}]" for i in range(n))


# task family → (parameter names, contract clauses with {p}, {n}, {h}, {w}, {a}, {b} filled in)
_CONTRACTS: dict[str, tuple[tuple[str, ...], Callable[[P], list[str]]]] = {
    "mod_add": (("a", "b"), lambda q: ["ensures result == (a + b) % {p}"]),
    "mod_sub": (("a", "b"), lambda q: ["ensures result == (a - b) % {p}"]),
    "mod_mul": (("a", "b"), lambda q: ["ensures result == (a * b) % {p}"]),
    "mod_div": (("a", "b"), lambda q: ["requires b != 0", "ensures (result * b) % {p} == a"]),
    "mod_square_sum": (("a", "b"), lambda q: ["ensures result == (a * a + b * b) % {p}"]),
    "mod_quad": (("a", "b"), lambda q: ["ensures result == (a * a + a * b + b * b) % {p}"]),
    "mod_cubic": (("a", "b"), lambda q: ["ensures result == (a * a * a + a * b) % {p}"]),
    "mod_cond": (
        ("a", "b"),
        lambda q: ["ensures result == (if b % 2 == 1 then (a + b) % {p} else (a - b) % {p})"],
    ),
    "mod_neg": (("a",), lambda q: ["ensures result == ({p} - a) % {p}"]),
    "mod_inc": (("a",), lambda q: ["ensures result == (a + 1) % {p}"]),
    "mod_square": (("a",), lambda q: ["ensures result == (a * a) % {p}"]),
    "mod_is_zero": (("a",), lambda q: ["ensures result == (a == 0)"]),
    "color_succ": (("c",), lambda q: ["ensures result == (c + 1) % 10"]),
    "color_pred": (("c",), lambda q: ["ensures result == (c + 9) % 10"]),
    "color_recolor": (("c",), lambda q: ["ensures result == (if c == {a} then {b} else c)"]),
    "color_add": (("a", "b"), lambda q: ["ensures result == (a + b) % 10"]),
    "color_max": (
        ("a", "b"),
        lambda q: ["ensures result >= a and result >= b and (result == a or result == b)"],
    ),
    "color_min": (
        ("a", "b"),
        lambda q: ["ensures result <= a and result <= b and (result == a or result == b)"],
    ),
    "color_is_zero": (("c",), lambda q: ["ensures result == (c == 0)"]),
    "color_eq": (("a", "b"), lambda q: ["ensures result == (a == b)"]),
    "bool_not": (("x",), lambda q: ["ensures result == (not x)"]),
    "bool_and": (("x", "y"), lambda q: ["ensures result == (x and y)"]),
    "bool_or": (("x", "y"), lambda q: ["ensures result == (x or y)"]),
    "bool_xor": (("x", "y"), lambda q: ["ensures result == (x != y)"]),
    "seq_reverse": (("xs",), lambda q: [f"ensures {_EACH}result[i] == xs[{q['n'] - 1} - i]"]),
    "seq_sort": (("xs",), lambda q: [f"ensures forall i in 0..{q['n'] - 1}: result[i] <= result[i + 1]"]),
    "seq_sort_desc": (
        ("xs",),
        lambda q: [f"ensures forall i in 0..{q['n'] - 1}: result[i] >= result[i + 1]"],
    ),
    "seq_cumsum": (
        ("xs",),
        lambda q: [
            "ensures result[0] == xs[0] and (forall i in 1..{n}: result[i] == (result[i - 1] + xs[i]) % 10)"
        ],
    ),
    "seq_parity": (("xs",), lambda q: [f"ensures result == (({_sum(q['n'])}) % 2 == 1)"]),
    "seq_succ": (("xs",), lambda q: [f"ensures {_EACH}result[i] == (xs[i] + 1) % 10"]),
    "seq_pred": (("xs",), lambda q: [f"ensures {_EACH}result[i] == (xs[i] + 9) % 10"]),
    "seq_shift_right": (
        ("xs",),
        lambda q: ["ensures result[0] == 0 and (forall i in 1..{n}: result[i] == xs[i - 1])"],
    ),
    "seq_shift_left": (
        ("xs",),
        lambda q: [
            f"ensures (forall i in 0..{q['n'] - 1}: result[i] == xs[i + 1]) and result[{q['n'] - 1}] == 0"
        ],
    ),
    "seq_rotate_right": (("xs",), lambda q: [f"ensures {_EACH}result[i] == xs[(i + {q['n'] - 1}) % {{n}}]"]),
    "seq_rotate_left": (("xs",), lambda q: [f"ensures {_EACH}result[i] == xs[(i + 1) % {{n}}]"]),
    "seq_max": (("xs",), lambda q: [f"ensures {_EACH}result >= xs[i]"]),
    "seq_min": (("xs",), lambda q: [f"ensures {_EACH}result <= xs[i]"]),
    "seq_sum": (("xs",), lambda q: [f"ensures result == ({_sum(q['n'])}) % 10"]),
    "grid_rot90": (("g",), lambda q: [f"ensures {_CELLS}result[r, c] == g[{q['h'] - 1} - c, r]"]),
    "grid_rot180": (
        ("g",),
        lambda q: [f"ensures {_CELLS}result[r, c] == g[{q['h'] - 1} - r, {q['w'] - 1} - c]"],
    ),
    "grid_rot270": (("g",), lambda q: [f"ensures {_CELLS}result[r, c] == g[c, {q['w'] - 1} - r]"]),
    "grid_hmirror": (("g",), lambda q: [f"ensures {_CELLS}result[r, c] == g[{q['h'] - 1} - r, c]"]),
    "grid_vmirror": (("g",), lambda q: [f"ensures {_CELLS}result[r, c] == g[r, {q['w'] - 1} - c]"]),
    "grid_dmirror": (("g",), lambda q: [f"ensures {_CELLS}result[r, c] == g[c, r]"]),
    "grid_transpose": (("g",), lambda q: [f"ensures {_CELLS}result[r, c] == g[c, r]"]),
    "grid_cmirror": (
        ("g",),
        lambda q: [f"ensures {_CELLS}result[r, c] == g[{q['w'] - 1} - c, {q['h'] - 1} - r]"],
    ),
    "grid_recolor": (
        ("g",),
        lambda q: [f"ensures {_CELLS}result[r, c] == (if g[r, c] == {{a}} then {{b}} else g[r, c])"],
    ),
    "grid_shift_down": (
        ("g",),
        lambda q: [f"ensures {_CELLS}result[r, c] == g[(r + {q['h'] - 1}) % {{h}}, c]"],
    ),
    "grid_shift_up": (("g",), lambda q: [f"ensures {_CELLS}result[r, c] == g[(r + 1) % {{h}}, c]"]),
    "grid_shift_right": (
        ("g",),
        lambda q: [f"ensures {_CELLS}result[r, c] == g[r, (c + {q['w'] - 1}) % {{w}}]"],
    ),
    "grid_shift_left": (("g",), lambda q: [f"ensures {_CELLS}result[r, c] == g[r, (c + 1) % {{w}}]"]),
}


class DeclareError(UserError):
    """A name that cannot become a circuit declaration."""


@dataclass(frozen=True)
class Contract:
    clauses: tuple[str, ...]  # `requires …` / `ensures …`, in order
    checked_on: str  # "all 9,409 inputs" or "2,000 sampled inputs"

    @property
    def text(self) -> str:
        """As the catalog stores a contract: the clauses joined by `; `."""
        return "; ".join(self.clauses)


def param_names(task: Task) -> tuple[str, ...]:
    """The argument names the declaration uses (those its contract speaks of)."""
    known = _CONTRACTS.get(task.name)
    if known is not None and len(known[0]) == len(task.arg_types):
        return known[0]
    return tuple("abcdefgh"[i] for i in range(len(task.arg_types)))


def declaration(name: str, learned: str, task: Task, clauses: tuple[str, ...] = ()) -> str:
    """`circuit NAME(…) -> T [contract] learned "…";` for a task's circuit."""
    params = ", ".join(f"{n}: {t}" for n, t in zip(param_names(task), task.arg_types, strict=True))
    lines = [
        f"circuit {name}({params}) -> {task.out_type}",
        *(f"  {c}" for c in clauses),
        f'  learned "{learned}";',
    ]
    return "\n".join(lines)


def task_contract(task: Task) -> Contract | None:
    """The contract of `task`'s circuit, checked against the task (None when there is none to offer
    or it does not hold: a contract is never offered unchecked)."""
    known = _CONTRACTS.get(task.name)
    if known is None or len(known[0]) != len(task.arg_types) or task.parts:
        return None
    params = dict(task.params)
    if isinstance(task.out_type, T.GridT):
        params.update(rows=task.out_type.h, cols=task.out_type.w)
    clauses = tuple(c.format(**params) for c in known[1](params))
    decl = checked_declaration(declaration("it", "_", task, clauses))
    where = task_meets(decl, task)
    return Contract(clauses, where) if where else None


def task_meets(decl: ast.CircuitDecl, task: Task) -> str | None:
    """On which inputs the task meets the declared contract, as `circ verify` checks it (its whole
    domain, proved, or a seeded sample), or None when it does not. Strict: a clause with no value on a
    task input (an index out of range) counts as broken, not as vacuous."""
    from circ.verify.conformance import conformance

    found = conformance(decl, task, strict=True)
    return found.detail if found.status in ("all", "proved", "sampled") else None


def checked_declaration(text: str) -> ast.CircuitDecl:
    """A circuit declaration parsed and type-checked on its own."""
    try:
        checked = check(load_text(text, "<declaration>"))
    except CircError as exc:
        raise DeclareError(f"the declaration does not check: {exc}") from None
    decl = checked.program.modules["<declaration>"].items[0]
    assert isinstance(decl, ast.CircuitDecl)
    return decl


def identifier(name: str) -> str:
    """A circuit's catalog name as a circ identifier: its last dotted part, `-` as `_`."""
    last = re.sub(r"[^A-Za-z0-9_]", "_", name.split("@", 1)[0].rsplit(".", 1)[-1])
    if not last or last[0].isdigit():
        last = "c_" + last
    return last
