"""Typed AST → dataflow graph: user functions are inlined and combinators unrolled.

After lowering, only circuits compute; everything else is a constant, an input, or a structural
builtin (compiler/nodes.py). A `map` over `Seq[T, 6]` becomes six `index` nodes, six circuit
calls and one `seq`, so later passes see every call and can batch or fuse them.

This is the one lowering: the runtime executes its graph, and verification generates its proof
obligations from it (`keep_contracts=True` keeps each call of a `fn` with contracts as one opaque
`call` node, known by its contract, so proofs stay modular). The entry function's names — its
parameters, lets, unnamed calls and `result` — are kept in `graph.graph["shown"]` for messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx

from circ.compiler import nodes as N
from circ.lang import ast
from circ.lang import types as T
from circ.lang.check import Checked
from circ.lang.diagnostics import CircError, error
from circ.lang.limits import MAX_GRAPH_NODES, MAX_NESTING
from circ.lang.scope import Symbol


@dataclass(frozen=True)
class _Global:
    """A named `fn` or `circuit` used as a value (passed to a combinator, or let-bound)."""

    symbol: Symbol


@dataclass(frozen=True)
class _Composed:
    """`compose(f, g)`: x ↦ f(g(x))."""

    f: _FnValue
    g: _FnValue


_FnValue = _Global | _Composed
_Value = int | _FnValue  # a node id, or a static function


def lower(checked: Checked, entry: str | Symbol = "main", keep_contracts: bool = False) -> nx.MultiDiGraph:
    """The dataflow graph of `entry` (a `fn` or `circuit` of the root file, or any checked symbol)."""
    symbol = entry if isinstance(entry, Symbol) else checked.function(entry)
    if symbol is None:
        names = ", ".join(s.name for s in checked.symbols() if s.kind == "fn") or "none"
        span = ast.Span(checked.program.root, 0, 0, 0, 0)
        raise CircError([error(span, f"no function `{entry}` to compile (functions here: {names})")])
    return _Lowerer(checked, symbol, keep_contracts).entry()


class _Lowerer:
    def __init__(self, checked: Checked, symbol: Symbol, keep_contracts: bool) -> None:
        self.checked = checked
        self.symbol = symbol
        self.keep_contracts = keep_contracts
        self.graph = nx.MultiDiGraph()
        self.depth = 0  # 0 while lowering the entry's own body: its names are `shown`
        self.shown: list[tuple[str, int]] = []
        self.named: set[int] = set()  # ids of the entry's expressions a let (or the result) names
        self.frames: list[tuple[str, ast.Span]] = []  # the inlined calls being lowered (N.FRAME)

    def add(self, op: str, type_: T.Type, span: ast.Span, args: tuple[int, ...] = (), **attrs: object) -> int:
        node = self.graph.number_of_nodes()
        if node >= MAX_GRAPH_NODES:  # every call unrolled: a fold over a big grid, deep compositions
            message = f"this program unrolls to more than {MAX_GRAPH_NODES:,} graph nodes"
            raise CircError([error(self.frames[0][1] if self.frames else span, message)])
        self.graph.add_node(
            node, **{N.OP: op, N.TYPE: type_, N.SPAN: span, N.FRAME: tuple(self.frames), **attrs}
        )
        for position, source in enumerate(args):
            self.graph.add_edge(source, node, **{N.ARG: position})
        return node

    def entry(self) -> nx.MultiDiGraph:
        symbol = self.symbol
        sig = symbol.signature
        self.frames = [(symbol.name, symbol.decl.name_span)]
        params = tuple(
            self.add("input", t, p.span, **{N.NAME: name, N.POSITION: i})
            for i, ((name, t), p) in enumerate(zip(sig.params, symbol.decl.params, strict=True))
        )
        self.shown = [(name, node) for (name, _), node in zip(sig.params, params, strict=True)]
        self.depth = -1  # the entry's body is entered below, at depth 0
        result = self.apply(_Global(symbol), params, symbol.decl.name_span)
        self.shown.append(("result", result))
        self.add("output", sig.result, symbol.decl.name_span, (result,))
        self.graph.graph.update(
            entry=symbol.name, signature=str(sig), root=self.checked.program.root, shown=self.shown
        )
        return self.graph

    # --- functions ----------------------------------------------------------------------------

    def apply(self, fn: _FnValue, args: tuple[int, ...], span: ast.Span) -> int:
        if isinstance(fn, _Composed):
            return self.apply(fn.f, (self.apply(fn.g, args, span),), span)
        symbol = fn.symbol
        if symbol.kind == "circuit":
            attrs = {N.CIRCUIT: symbol.decl.learned, N.NAME: symbol.name, N.DECL: symbol.decl}
            return self.add("circuit", symbol.signature.result, span, args, **attrs)
        if self.keep_contracts and symbol.decl.contracts and symbol is not self.symbol:
            attrs = {N.NAME: symbol.name, N.DECL: symbol.decl}
            return self.add("call", symbol.signature.result, span, args, **attrs)
        env: dict[str, _Value] = {p.name: a for p, a in zip(symbol.decl.params, args, strict=True)}
        inner = self.depth >= 0  # a call inside the entry (whose own frame `entry` set)
        if inner:
            if len(self.frames) > MAX_NESTING:
                raise CircError([error(span, f"functions inlined more than {MAX_NESTING} calls deep here")])
            self.frames.append((symbol.name, span))
        self.depth += 1
        top = self.depth == 0
        for let in symbol.decl.body.lets:
            if top:
                self.named.add(id(let.value))
            env[let.name] = self.expr(let.value, env)
            if top and isinstance(env[let.name], int):
                self.shown.append((let.name, env[let.name]))
        if top:
            self.named.add(id(symbol.decl.body.result))
        result = self.expr(symbol.decl.body.result, env)
        self.depth -= 1
        if inner:
            self.frames.pop()
        assert isinstance(result, int)
        return result

    # --- expressions --------------------------------------------------------------------------

    def node(self, e: ast.Expr, env: dict[str, _Value]) -> int:
        value = self.expr(e, env)
        assert isinstance(value, int), "the checker lets functions flow only to combinators and lets"
        return value

    def expr(self, e: ast.Expr, env: dict[str, _Value]) -> _Value:
        type_ = self.checked.types.get(e)
        if isinstance(e, ast.IntLit | ast.BoolLit):
            return self.add("const", type_, e.span, **{N.VALUE: e.value})
        if isinstance(e, ast.ListLit):
            return self.list_literal(e, type_, env)
        if isinstance(e, ast.TupleLit):
            items = tuple(self.node(item, env) for item in e.items)
            return self.add("builtin", type_, e.span, items, **{N.BUILTIN: "tuple"})
        if isinstance(e, ast.Var):
            return env[e.name] if e.name in env else _Global(self.checked.callees[e])
        if isinstance(e, ast.Proj):
            base = self.node(e.expr, env)
            return self.add("builtin", type_, e.span, (base,), **{N.BUILTIN: "proj", N.INDEX: e.index})
        if isinstance(e, ast.Index):
            base = self.node(e.expr, env)
            indices = tuple(i.value for i in e.indices)  # static: the checker allows literals only
            return self.add("builtin", type_, e.span, (base,), **{N.BUILTIN: "index", N.INDEX: indices})
        if isinstance(e, ast.If):
            args = (self.node(e.cond, env), self.node(e.then, env), self.node(e.orelse, env))
            return self.add("builtin", type_, e.span, args, **{N.BUILTIN: "select"})
        if isinstance(e, ast.Call):
            return self.call(e, env)
        raise AssertionError(f"the checker rejects {type(e).__name__} outside contracts")

    def list_literal(self, e: ast.ListLit, type_: T.Type, env: dict[str, _Value]) -> int:
        if _constant(e):
            return self.add("const", type_, e.span, **{N.VALUE: _value(e)})
        if isinstance(type_, T.GridT):
            cells = tuple(self.element(row, (c,), env, T.COLOR) for row in e.items for c in range(type_.w))
            return self.add("builtin", type_, e.span, cells, **{N.BUILTIN: "grid"})
        items = tuple(self.node(item, env) for item in e.items)
        return self.add("builtin", type_, e.span, items, **{N.BUILTIN: "seq"})

    def element(self, row: ast.Expr, index: tuple[int, ...], env: dict[str, _Value], type_: T.Type) -> int:
        """Cell `index` of a row written in a grid literal: the item itself, or an `index` node."""
        if isinstance(row, ast.ListLit):
            return self.node(row.items[index[0]], env)
        return self.add(
            "builtin", type_, row.span, (self.node(row, env),), **{N.BUILTIN: "index", N.INDEX: index}
        )

    def call(self, e: ast.Call, env: dict[str, _Value]) -> _Value:
        if e.func in _COMBINATORS and e.func not in env:
            return _COMBINATORS[e.func](self, e, env)
        fn = env[e.func] if e.func in env else _Global(self.checked.callees[e])
        assert not isinstance(fn, int)
        args = tuple(self.node(a, env) for a in e.args)
        result = self.apply(fn, args, e.span)
        if self.depth == 0 and id(e) not in self.named:
            self.shown.append((e.span.excerpt(self.checked.program.sources[e.span.path]), result))
        return result

    # --- combinators --------------------------------------------------------------------------

    def function(self, e: ast.Expr, env: dict[str, _Value]) -> _FnValue:
        value = self.expr(e, env)
        assert not isinstance(value, int)
        return value

    def elements(self, collection: int) -> list[tuple[tuple[int, ...], int]]:
        """Index nodes for every element of a Seq or cell of a Grid, with their indices."""
        t = self.graph.nodes[collection][N.TYPE]
        span = self.graph.nodes[collection][N.SPAN]
        if isinstance(t, T.SeqT):
            positions, elem = [(i,) for i in range(t.n)], t.elem
        else:
            positions, elem = [(r, c) for r in range(t.h) for c in range(t.w)], T.COLOR
        return [
            (p, self.add("builtin", elem, span, (collection,), **{N.BUILTIN: "index", N.INDEX: p}))
            for p in positions
        ]

    def rebuild(self, shape: T.Type, items: list[int], span: ast.Span, result: T.Type) -> int:
        builtin = "grid" if isinstance(shape, T.GridT) else "seq"
        return self.add("builtin", result, span, tuple(items), **{N.BUILTIN: builtin})

    def map(self, e: ast.Call, env: dict[str, _Value]) -> int:
        f, xs = self.function(e.args[0], env), self.node(e.args[1], env)
        results = [self.apply(f, (x,), e.span) for _, x in self.elements(xs)]
        return self.rebuild(self.graph.nodes[xs][N.TYPE], results, e.span, self.checked.types[e])

    def zip_with(self, e: ast.Call, env: dict[str, _Value]) -> int:
        f = self.function(e.args[0], env)
        xs, ys = self.node(e.args[1], env), self.node(e.args[2], env)
        pairs = zip(self.elements(xs), self.elements(ys), strict=True)
        results = [self.apply(f, (x, y), e.span) for (_, x), (_, y) in pairs]
        return self.rebuild(self.graph.nodes[xs][N.TYPE], results, e.span, self.checked.types[e])

    def fold(self, e: ast.Call, env: dict[str, _Value]) -> int:
        f, acc = self.function(e.args[0], env), self.node(e.args[1], env)
        for _, x in self.elements(self.node(e.args[2], env)):
            acc = self.apply(f, (acc, x), e.span)
        return acc

    def compose(self, e: ast.Call, env: dict[str, _Value]) -> _FnValue:
        return _Composed(self.function(e.args[0], env), self.function(e.args[1], env))


_COMBINATORS: dict[str, Callable[[_Lowerer, ast.Call, dict[str, _Value]], _Value]] = {
    "map": _Lowerer.map,
    "zip_with": _Lowerer.zip_with,
    "fold": _Lowerer.fold,
    "compose": _Lowerer.compose,
}


def _constant(e: ast.Expr) -> bool:
    if isinstance(e, ast.ListLit):
        return all(_constant(item) for item in e.items)
    return isinstance(e, ast.IntLit | ast.BoolLit)


def _value(e: ast.Expr) -> object:
    return [_value(item) for item in e.items] if isinstance(e, ast.ListLit) else e.value
