"""The front end as its list of stages: parse → check → lower (passes come later; running is in
`circ.run_program`, kept apart so that checking never imports torch)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from circ.compiler.lower import lower
from circ.lang.check import Checked, check
from circ.lang.modules import Program, load


@dataclass(frozen=True)
class Compiled:
    program: Program
    checked: Checked
    graph: nx.MultiDiGraph


def check_file(path: str | Path) -> Checked:
    program = load(path)  # parse the file and every module it `use`s
    return check(program)  # resolve names, type every expression and contract


def compile_file(path: str | Path, entry: str = "main") -> Compiled:
    checked = check_file(path)
    graph = lower(checked, entry)  # inline functions, unroll combinators → dataflow graph
    return Compiled(checked.program, checked, graph)
