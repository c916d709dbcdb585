"""The dataflow graph as Graphviz DOT text (`circ compile --emit dot | dot -Tsvg`)."""

from __future__ import annotations

import networkx as nx

from circ.compiler import nodes as N

_STYLE = {
    "input": 'shape=invhouse style=filled fillcolor="#e0f2fe"',
    "const": 'shape=note style=filled fillcolor="#f5f5f4"',
    "circuit": 'shape=box style="rounded,filled" fillcolor="#fde68a"',
    "call": 'shape=box style="rounded,dashed"',
    "builtin": 'shape=ellipse style=filled fillcolor="#ede9fe"',
    "output": 'shape=house style=filled fillcolor="#dcfce7"',
}


def label(graph: nx.MultiDiGraph, node: int) -> str:
    """A one-line description of a node, shared by DOT and the `--emit graph` table."""
    attrs = graph.nodes[node]
    op = attrs[N.OP]
    if op == "input":
        return f"input {attrs[N.NAME]}"
    if op == "const":
        return f"const {attrs[N.VALUE]}"
    if op == "circuit":
        times = f" ×{attrs[N.BATCH]}" if N.BATCH in attrs else ""
        kernel = f" @k{attrs[N.KERNEL]}" if N.KERNEL in attrs else ""
        return f"{attrs[N.NAME]}{times} [{attrs[N.CIRCUIT]}]{kernel}"
    if op == "call":
        return f"{attrs[N.NAME]} (by its contract)"
    if op == "builtin":
        index = attrs.get(N.INDEX)
        if isinstance(index, tuple):  # index [r, c]
            return f"{attrs[N.BUILTIN]} {list(index)}"
        return attrs[N.BUILTIN] if index is None else f"{attrs[N.BUILTIN]} .{index}"
    return "output"


def _quote(*lines: str) -> str:
    """A DOT string literal; DOT's own `\\n` separates the lines."""
    return '"' + "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in lines) + '"'


def to_dot(graph: nx.MultiDiGraph) -> str:
    name = graph.graph.get("entry", "circ")
    lines = [f"digraph {_quote(name)} {{", "  rankdir=LR;", '  node [fontname="Helvetica" fontsize=10];']
    for node in graph.nodes:
        attrs = graph.nodes[node]
        text = _quote(label(graph, node), str(attrs[N.TYPE]))
        lines.append(f"  n{node} [label={text} {_STYLE[attrs[N.OP]]}];")
    for source, target, position in graph.edges(data=N.ARG):
        lines.append(f'  n{source} -> n{target} [label="{position}"];')
    lines.extend(_clusters(graph))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _clusters(graph: nx.MultiDiGraph) -> list[str]:
    """One cluster per inlined call (`N.FRAME`), nested as the calls are, naming the nodes it holds."""
    members: dict[tuple, list[int]] = {}
    for node, frame in graph.nodes(data=N.FRAME, default=()):
        for depth in range(2, len(frame) + 1):  # the entry's own frame is the whole graph
            members.setdefault(frame[:depth], [])
        members.setdefault(frame, []).append(node)
    lines: list[str] = []

    def emit(prefix: tuple, pad: str) -> None:
        for child in (k for k in members if len(k) == len(prefix) + 1 and k[: len(prefix)] == prefix):
            name, span = child[-1]
            lines.append(f"{pad}subgraph cluster_{len(lines)} {{")
            lines.append(
                f'{pad}  label={_quote(f"{name}  {span.line}:{span.column}")}; style="rounded,dashed";'
            )
            lines.extend(f"{pad}  n{node};" for node in members[child])
            emit(child, pad + "  ")
            lines.append(f"{pad}}}")

    for root in dict.fromkeys(frame[:1] for frame in members):
        emit(root, "  ")
    return lines
