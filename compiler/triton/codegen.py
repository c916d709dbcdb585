"""One Triton kernel per planned chain (`passes.fuse`), as Python source.

A kernel takes a tile of rows through every circuit call of its chain. Values live in registers as
one [R] int tensor per scalar leaf, so the structural builtins between calls cost nothing here:
every builtin but `select` only renames leaves (its `compiler.builtins.selection`), `select` is a
`tl.where` per leaf, and a constant is a literal. A call lays its argument leaves out as tokens
(the circuit interface's layout: value − low, then the `=` queries), runs `blocks.circuit`, and
reads each output leaf back from the argmax at its query position, so one circuit's argmax feeds the
next one's embedding gather without leaving the chip.

Each kernel reads the values it needs from earlier kernels or the program inputs (int32 columns
of `x`), writes every call's result (`y`) and confidence (`conf`), and is specialised by constants:
each call's tile sizes, weight offsets and model sizes are literals in the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from circ.circuit.config import ModelConfig
from circ.circuit.interface import CircuitInterface
from circ.compiler import nodes as N
from circ.compiler.builtins import SELECT, pick, select_leaves, selection
from circ.compiler.passes.fuse import padded_positions, rows_per_tile
from circ.compiler.triton.layout import Layout
from circ.lang import types as T
from circ.lang.layout import flatten

ALIGN = 16  # each circuit's weights start on a 16-element boundary


@dataclass(frozen=True)
class Kernel:
    name: str
    source: str
    rows_per_tile: int
    inputs: tuple[int, ...]  # nodes whose values are concatenated (in this order) into `x`
    outputs: tuple[int, ...]  # circuit nodes whose values are concatenated into `y`
    calls: int  # columns of `conf`: one per call, in output order


def weight_layouts(graph: nx.MultiDiGraph, configs: dict[str, ModelConfig]) -> dict[str, Layout]:
    """Each circuit of the graph (by catalog name) placed in one shared weight buffer."""
    layouts: dict[str, Layout] = {}
    at = 0
    for node in sorted(graph.nodes):
        name = graph.nodes[node].get(N.CIRCUIT)
        if graph.nodes[node][N.OP] == "circuit" and name not in layouts:
            layouts[name] = Layout(configs[name], at)
            at += -(-layouts[name].size // ALIGN) * ALIGN
    return layouts


def generate(graph: nx.MultiDiGraph, layouts: dict[str, Layout]) -> list[Kernel]:
    """The kernels of a fused graph, in launch order."""
    members: dict[int, list[int]] = {}
    for node in N.topological_order(graph):
        if graph.nodes[node][N.OP] == "circuit":
            members.setdefault(graph.nodes[node][N.KERNEL], []).append(node)
    return [_Writer(graph, layouts, k, nodes).kernel() for k, nodes in sorted(members.items())]


@dataclass
class _Writer:
    graph: nx.MultiDiGraph
    layouts: dict[str, Layout]
    index: int
    members: list[int]
    lines: list[str] = field(default_factory=list)
    leaves: dict[int, list[str]] = field(default_factory=dict)
    inputs: list[int] = field(default_factory=list)
    columns: int = 0  # of x
    pending: dict[str, str] = field(default_factory=dict)  # x leaf → its load, emitted on first use
    outputs: int = 0  # columns of y
    calls: int = 0
    positions: set[int] = field(default_factory=set)

    def kernel(self) -> Kernel:
        g = self.graph
        rows = rows_per_tile([padded_positions(g, m) for m in self.members])
        for node in self.members:
            self.call(node, rows)
        name = f"kernel_{self.index}"
        n_calls = sum(N.calls(g, m) for m in self.members)
        names = ", ".join(sorted({g.nodes[m][N.CIRCUIT] for m in self.members}))
        head = [
            f"# {name} of {g.graph.get('signature', '')}: {n_calls} calls ({names}), {rows} rows per tile",
            "import triton",
            "import triton.language as tl",
            "",
            "from circ.compiler.triton.blocks import circuit",
            "",
            "",
            "@triton.jit",
            f"def {name}(w, x, y, conf, rows, BF16: tl.constexpr, NATIVE: tl.constexpr):",
            f"    r = tl.program_id(0) * {rows} + tl.arange(0, {rows})",
            "    live = r < rows",
            *(f"    pos{pp} = tl.arange(0, {pp})[None, :]" for pp in sorted(self.positions)),
        ]
        widths = {"X_W": max(self.columns, 1), "Y_W": self.outputs, "C_W": self.calls}
        body = [_fill(line, widths) for line in self.lines]
        source = "\n".join(head + body) + "\n"
        return Kernel(name, source, rows, tuple(self.inputs), tuple(self.members), n_calls)

    # --- values as leaves ---------------------------------------------------------------------

    def value(self, node: int) -> list[str]:
        if node not in self.leaves:
            self.leaves[node] = self._value(node)
        return self.leaves[node]

    def _value(self, node: int) -> list[str]:
        attrs = self.graph.nodes[node]
        op, t = attrs[N.OP], attrs[N.TYPE]
        if op == "const":
            return [str(v) for v in flatten(t, attrs[N.VALUE])]
        if op == "builtin":
            return self.builtin(node, attrs)
        # an input, or a circuit computed by an earlier kernel: columns of x, loaded when first used
        self.inputs.append(node)
        start, self.columns = self.columns, self.columns + T.width(t)
        names = [f"x{c}" for c in range(start, self.columns)]
        for c, leaf in zip(range(start, self.columns), names, strict=True):
            self.pending[leaf] = f"    {leaf} = tl.load(x + r * X_W + {c}, mask=live, other=0)"
        return names

    def use(self, leaf: str) -> str:
        if leaf in self.pending:
            self.lines.append(self.pending.pop(leaf))
        return leaf

    def builtin(self, node: int, attrs: dict) -> list[str]:
        args = N.args_of(self.graph, node)
        if attrs[N.BUILTIN] != SELECT:  # a renaming of leaves
            arg_types = [self.graph.nodes[a][N.TYPE] for a in args]
            return pick(selection(attrs, arg_types), [self.value(a) for a in args])
        cond, then, orelse = (self.value(a) for a in args)
        if _literal(cond[0]):  # a constant condition (in a graph that was not folded)
            return then if int(cond[0]) else orelse
        self.use(cond[0])
        names = [f"s{node}_{i}" for i in range(len(then))]

        def where(c: str, a: str, b: str) -> str:
            return f"tl.where({c} != 0, {self.use(a)}, {self.use(b)})"

        for name, expr in zip(names, select_leaves(cond[0], then, orelse, where), strict=True):
            self.lines.append(f"    {name} = {expr}")
        return names

    # --- circuit calls ------------------------------------------------------------------------

    def call(self, node: int, rows: int) -> None:
        g = self.graph
        attrs = g.nodes[node]
        layout = self.layouts[attrs[N.CIRCUIT]]
        cfg, pp = layout.cfg, layout.pp
        self.positions.add(pp)
        iface = CircuitInterface(*N.call_types(g, node))
        lows, out_lows, query = iface.in_lows, iface.out_lows, iface.query_token
        times = f" ×{N.calls(g, node)}" if N.calls(g, node) > 1 else ""
        what = f"{attrs[N.NAME]}{times} [{attrs[N.CIRCUIT]}]"
        self.lines += [
            "",
            f"    # n{node} = {what}: d_model {cfg.d_model}, {cfg.n_heads} heads, d_mlp {cfg.d_mlp},"
            f" {cfg.n_layers} layer(s), {cfg.n_positions} positions → {rows}×{pp} tile",
        ]
        ql = layout.query_lines(rows)  # the last layer's lines a row: output j's is column j
        self.positions.add(ql)
        constants = ", ".join(f"{k}={v!r}" for k, v in {**layout.constants(), "QL": ql}.items())
        out_leaves = []
        for i, args in enumerate(N.call_args(g, node)):
            tokens = [leaf for a in args for leaf in self.value(a)]
            self.lines.append(f"    t = tl.full([{rows}, {pp}], {query}, tl.int32)")
            for p, (leaf, low) in enumerate(zip(tokens, lows, strict=True)):
                token = str(int(leaf) - low) if _literal(leaf) else f"({self.use(leaf)} - {low})[:, None]"
                self.lines.append(f"    t = tl.where(pos{pp} == {p}, {token}, t)")
            tile = f"tl.reshape(t, [{rows * pp}]), R={rows}"
            self.lines.append(f"    o, c = circuit(w, {tile}, {constants}, BF16=BF16, NATIVE=NATIVE)")
            self.lines.append(f"    tl.store(conf + r * C_W + {self.calls}, c, mask=live)")
            self.calls += 1
            for j, low in enumerate(out_lows):
                leaf = f"v{node}_{i}_{j}"
                self.lines.append(f"    {leaf} = tl.sum(tl.where(pos{ql} == {j}, o, 0), 1) + {low}")
                self.lines.append(f"    tl.store(y + r * Y_W + {self.outputs}, {leaf}, mask=live)")
                self.outputs += 1
                out_leaves.append(leaf)
        self.leaves[node] = out_leaves


def _fill(line: str, widths: dict[str, int]) -> str:
    """Row strides are known only once the whole kernel is written; they go in as literals."""
    for name, width in widths.items():
        line = line.replace(name, str(width))
    return line


def _literal(leaf: str) -> bool:
    """A constant leaf (written as its value) rather than a register tensor's name."""
    return leaf.lstrip("-").isdigit()
