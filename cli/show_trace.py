"""Traces a reader can follow at 80 columns: every circuit call of a row, grouped by the function
whose body made it (the lowering's `frame`), in source order, with long values wrapped and grids
drawn as grids. Past `SUMMARY_OVER` calls a row is summarised per circuit (calls, least confidence,
contract failures, every failing call in full); `everything=True` (`--trace-all`) lists them all."""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from circ.api import Ran
from circ.compiler import nodes as N
from circ.lang import ast
from circ.lang.layout import format_value
from circ.runtime.trace import Step, trace_row

SUMMARY_OVER = 40  # circuit calls in a row past which `--trace` summarises

_CHECK = {
    True: Text("ensures ✓", style="green"),
    False: Text("ensures ✗", style="bold red"),
    None: Text("no contract here", style="dim"),
}


def check_text(step: Step) -> Text:
    """The call's contract check: an untaken branch's call and one outside its `requires` promise
    nothing (so `ensures` is not judged there), and say so."""
    if not step.taken:
        return Text("not taken", style="dim")
    if step.requires is False:
        return Text("requires ✗", style="bold red")
    return _CHECK[step.ensures]


def contract_broken(step: Step) -> bool:
    return step.taken and (step.requires is False or step.ensures is False)


@dataclass
class Frame:
    """One inlined call (or the entry): the steps its body made and the calls made inside it."""

    name: str
    span: ast.Span
    items: list[Step | Frame] = field(default_factory=list)


def frames(graph: nx.MultiDiGraph, steps: list[Step]) -> Frame:
    """The steps as a tree of inlined calls. Each level is in the lowering's order, which is the
    source's order of evaluation: lets and arguments left to right, an inner call before its caller."""
    entry = graph.graph.get("entry", "main")
    root = Frame(entry, steps[0].span if steps else ast.Span("", 0, 0, 0, 0))
    made: dict[tuple, Frame] = {}
    for step in sorted(steps, key=lambda s: s.node):  # node ids are creation order
        path = graph.nodes[step.node].get(N.FRAME, ())
        parent = root
        for depth in range(1, len(path)):
            key = path[: depth + 1]
            if key not in made:
                made[key] = Frame(*path[depth])
                parent.items.append(made[key])
            parent = made[key]
        parent.items.append(step)
    return root


def trace_tree(ran: Ran, row: int, everything: bool = False) -> Tree:
    """One row's trace: grouped and in full, or summarised when it has more than SUMMARY_OVER calls."""
    graph = ran.graph
    steps = trace_row(graph, ran.execution, row)
    root = graph.graph.get("root", "")
    tree = Tree(Text.assemble((f"row {row}", "bold"), "  ", graph.graph["signature"], "  ", (root, "dim")))
    calls = [s for s in steps if s.confidence is not None]
    view = _Viewer(graph, ran.compiled.program.sources, root)
    if not everything and len(calls) > SUMMARY_OVER:
        return view.summary(tree, steps, calls)
    view.add(tree, frames(graph, steps))
    return tree


@dataclass(frozen=True)
class _Viewer:
    graph: nx.MultiDiGraph
    sources: dict[str, str]
    root: str  # positions in this file are shown as line:column

    def where(self, span: ast.Span) -> Text:
        shown = f"{span.line}:{span.column}" if span.path == self.root else str(span)
        return Text(shown, style="dim")

    def add(self, tree: Tree, frame: Frame) -> None:
        for item in frame.items:
            if isinstance(item, Frame):
                source = self.sources.get(item.span.path)
                call = item.span.excerpt(source) if source else item.name
                self.add(tree.add(Text.assemble((call, "bold magenta"), "  ", self.where(item.span))), item)
            else:
                tree.add(step_view(item, self.graph, self.where(item.span)))

    def summary(self, tree: Tree, steps: list[Step], calls: list[Step]) -> Tree:
        for step in steps:
            if self.graph.nodes[step.node][N.OP] == "input":
                tree.add(step_view(step, self.graph, self.where(step.span)))
        table = Table(header_style="bold", box=None, padding=(0, 1))
        for column in ("circuit", "calls", "least p", "contract ✗"):
            table.add_column(column, justify="left" if column == "circuit" else "right", overflow="fold")
        by_circuit: dict[str, list[Step]] = {}
        for step in calls:
            by_circuit.setdefault(step.what, []).append(step)
        for what, group in by_circuit.items():
            failed = sum(contract_broken(s) for s in group)
            least = min((s.confidence for s in group if s.taken and s.confidence is not None), default=1.0)
            style = "bold red" if failed else ""
            table.add_row(Text(what), str(len(group)), f"{least:.4f}", Text(str(failed), style=style))
        tree.add(Group(Text(f"{len(calls)} circuit calls (--trace-all lists each)"), table))
        for step in calls:
            if contract_broken(step):
                tree.add(step_view(step, self.graph, self.where(step.span)))
        tree.add(step_view(steps[-1], self.graph, self.where(steps[-1].span)))
        return tree


def step_view(step: Step, graph: nx.MultiDiGraph, where: Text) -> RenderableType:
    """One step: a line `what(args) = output  p=…  ensures ✓  where`, or a heading and the values
    drawn as grids side by side when any is a grid (a grid on one line is unreadable)."""
    values = [*step.inputs, step.output]
    is_call = step.confidence is not None
    tail = [f"  p={step.confidence:.4f}  ", check_text(step), "  "] if is_call else ["  "]
    if not any(_has_grid(v) for v in values):
        if is_call:
            args = ", ".join(format_value(a) for a in step.inputs)
            head = Text.assemble((step.what, "cyan"), f"({args}) = ", (format_value(step.output), "bold"))
        else:
            head = Text.assemble(step.what, " = ", (format_value(step.output), "bold"))
        return Text.assemble(head, *tail, where)
    head = Text.assemble((step.what, "cyan" if is_call else ""), *tail, where)
    if is_call:
        pairs = [*zip(_arg_names(step, graph), step.inputs, strict=True), ("=", step.output)]
    else:
        pairs = [("", step.output)]
    return Group(head, Columns([b for name, v in pairs for b in _blocks(name, v)], padding=(0, 3)))


def _arg_names(step: Step, graph: nx.MultiDiGraph) -> list[str]:
    decl = graph.nodes[step.node].get(N.DECL)
    if decl is not None and len(decl.params) == len(step.inputs):
        return [p.name for p in decl.params]
    return [f"arg {i}" for i in range(len(step.inputs))]


def _has_grid(value: object) -> bool:
    if isinstance(value, tuple):
        return any(_has_grid(v) for v in value)
    return isinstance(value, list) and bool(value) and isinstance(value[0], list)


def _blocks(name: str, value: object) -> list[Text]:
    """A value under its name: a grid as rows of digits, a tuple as one block per component."""
    if isinstance(value, tuple):
        return [b for i, v in enumerate(value) for b in _blocks(f"{name}.{i}", v)]
    lines = (
        [" ".join(format_value(c) for c in row) for row in value]  # type: ignore[union-attr]
        if _has_grid(value)
        else [format_value(value)]
    )
    text = Text(name + "\n", style="dim") if name else Text()
    text.append("\n".join(lines))
    return [text]
