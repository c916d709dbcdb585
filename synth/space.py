"""What the search may build for one spec: the components in scope, the value types worth building,
the constants, and every production (a call, or a combinator over a component) with its step.

Type-directed: a production is kept only when its inputs can be built from the parameters and
constants and its result leads to the target type, so a grid spec never enumerates Mod[97] sums.
A component is a circuit or `fn` whose types are all values; one that cannot run here (its circuit
is not in the catalog) is dropped with a note, not an error, since the spec may not need it.
"""

from __future__ import annotations

from dataclasses import dataclass

from circ.lang import ast
from circ.lang import types as T
from circ.lang.check import Checked
from circ.lang.scope import Symbol
from circ.synth.spec import Spec
from circ.synth.terms import Global

TABLE_LIMIT = 1000  # unary functions over domains up to this size are told apart by their whole table


@dataclass(frozen=True)
class Component:
    name: str
    kind: str  # "circuit" | "fn"
    params: tuple[T.Type, ...]
    result: T.Type
    decl: ast.CircuitDecl | ast.FnDecl
    depth: int

    @property
    def fn(self) -> Global:
        return Global(self.name, T.FnT(self.params, self.result), self.depth)

    @property
    def requires(self) -> list[ast.Contract]:
        return [c for c in self.decl.contracts if c.kind == "requires"]


@dataclass(frozen=True)
class Production:
    """One way to build a value: `step` names the program that computes it from `args`."""

    kind: str  # "call" | "map" | "zip_with" | "fold" | "if" | "tuple" | "proj"
    args: tuple[T.Type, ...]
    result: T.Type
    component: Component | None = None  # the called or combined component
    index: int | None = None  # proj: the component taken

    @property
    def own_size(self) -> int:
        """Nodes the production adds to its arguments' sizes (the combinator and its function)."""
        return 2 if self.kind in ("zip_with", "fold") else 1

    @property
    def step(self) -> tuple:
        name = self.component.name if self.component else None
        return (self.kind, name, self.args, self.result, self.index)


@dataclass
class Space:
    params: list[tuple[str, T.Type]]
    goal: T.Type
    components: list[Component]
    productions: list[Production]
    constants: dict[T.Type, list[object]]
    collections: dict[T.Type, T.Type]  # collection type → element type, for map

    def unary(self) -> list[Component]:
        """Components usable as `map` functions and in `compose` (one small-domain argument)."""
        return [
            c
            for c in self.components
            if len(c.params) == 1
            and isinstance(c.params[0], T.ScalarT)
            and isinstance(c.result, T.ScalarT)
            and T.domain_size(c.params[0]) <= TABLE_LIMIT
        ]

    def map_result(self, collection: T.Type, elem: T.Type) -> T.Type | None:
        """`map(f, xs)` over `collection` with f returning `elem`: a Grid only of colours."""
        if isinstance(collection, T.GridT):
            return collection if elem == T.COLOR else None
        assert isinstance(collection, T.SeqT)
        return T.SeqT(elem, collection.n)


def components_in_scope(spec: Spec) -> list[Component]:
    """Every circuit and `fn` the spec file sees, what it `use`s first: of two programs of one size and
    value the first found is kept, so a learned function wins only where it is shorter."""
    checked = spec.checked
    found = []
    symbols = checked.scopes.visible[checked.program.root].values()
    for symbol in sorted(
        symbols, key=lambda s: (s.module == checked.program.root, s.module, s.decl.span.line)
    ):
        if symbol.kind not in ("circuit", "fn"):
            continue
        sig = symbol.signature
        types = [t for _, t in sig.params] + [sig.result]
        if not sig.params or not all(t.is_value for t in types):
            continue
        params = tuple(t for _, t in sig.params)
        found.append(
            Component(
                symbol.name,
                symbol.kind,
                params,
                sig.result,
                symbol.decl,
                max(1, chain_depth(symbol, checked)),
            )
        )
    return found


def build_space(spec: Spec, components: list[Component], constants: dict[T.Type, list[object]]) -> Space:
    """The productions over `components` that lead from the parameters to the target type."""
    space = Space(spec.params, spec.result, components, [], {}, {})
    have = {t for _, t in spec.params} | set(constants)
    productions: list[Production] = []
    for _ in range(4):  # types grow through maps and tuples; four rounds reach every one we build
        productions = _productions(space, have)
        grown = have | {p.result for p in productions}
        if grown == have:
            break
        have = grown
    wanted = _leading_to(spec.result, productions)
    space.productions = [p for p in productions if p.result in wanted and set(p.args) <= have]
    used = {t for p in space.productions for t in p.args} | {spec.result}
    space.constants = {t: v for t, v in constants.items() if t in used}
    space.collections = {
        t: (T.COLOR if isinstance(t, T.GridT) else t.elem) for t in have if isinstance(t, T.GridT | T.SeqT)
    }
    return space


def _productions(space: Space, have: set[T.Type]) -> list[Production]:
    found = []
    for c in space.components:
        if all(t in have for t in c.params):
            found.append(Production("call", c.params, c.result, c))
    collections = [t for t in have if isinstance(t, T.GridT | T.SeqT)]
    for xs in collections:
        elem = T.COLOR if isinstance(xs, T.GridT) else xs.elem
        for c in space.unary():
            if c.params[0] == elem and (out := space.map_result(xs, c.result)) is not None:
                found.append(Production("map", (xs,), out, c))
        for c in space.components:
            if len(c.params) != 2:
                continue
            a, e = c.params
            if e == elem and c.result == a and a in have:
                found.append(Production("fold", (a, xs), a, c))
            for ys in collections:
                out = space.map_result(xs, c.result)
                if _same_shape(xs, ys) and (a, e) == (elem, _elem(ys)) and out is not None:
                    found.append(Production("zip_with", (xs, ys), out, c))
    if T.BOOL in have:
        found += [Production("if", (T.BOOL, t, t), t) for t in sorted(have, key=str) if t.is_value]
    tuples = {t for c in space.components for t in (*c.params, c.result)} | {space.goal}
    for t in sorted(tuples, key=str):
        if isinstance(t, T.TupleT) and all(item in have for item in t.items):
            found.append(Production("tuple", t.items, t))
    for t in sorted(have, key=str):
        if isinstance(t, T.TupleT):
            found += [Production("proj", (t,), item, index=i) for i, item in enumerate(t.items)]
    return found


def _leading_to(goal: T.Type, productions: list[Production]) -> set[T.Type]:
    wanted = {goal}
    while True:
        more = {t for p in productions if p.result in wanted for t in p.args} - wanted
        if not more:
            return wanted
        wanted |= more


def _elem(t: T.Type) -> T.Type:
    return T.COLOR if isinstance(t, T.GridT) else t.elem


def _same_shape(a: T.Type, b: T.Type) -> bool:
    if isinstance(a, T.GridT) and isinstance(b, T.GridT):
        return (a.h, a.w) == (b.h, b.w)
    return isinstance(a, T.SeqT) and isinstance(b, T.SeqT) and a.n == b.n


def default_constants(spec: Spec, types: set[T.Type] | None = None) -> dict[T.Type, list[object]]:
    """Per scalar type in play: its two ends and 1, and the numbers the spec's contracts mention."""
    literals = sorted(
        {e.value for c in spec.decl.contracts for e in _walk(c.expr) if isinstance(e, ast.IntLit)}
    )
    found: dict[T.Type, list[object]] = {}
    for t in types or set():
        if isinstance(t, T.BoolT):
            found[t] = [False, True]
        elif isinstance(t, T.ScalarT):
            found[t] = sorted({t.low, t.high, *(v for v in [1, *literals] if t.low <= v <= t.high)})
    return found


def scalar_types(spec: Spec, components: list[Component]) -> set[T.Type]:
    types = (
        {t for c in components for t in (*c.params, c.result)} | {t for _, t in spec.params} | {spec.result}
    )
    return {t for t in types if isinstance(t, T.ScalarT)}


def _walk(e: ast.Expr) -> list[ast.Expr]:
    return [e, *(d for c in _children(e) for d in _walk(c))]


def chain_depth(symbol: Symbol, checked: Checked) -> int:
    """A declaration's longest chain of circuit applications, its `fn`s inlined (the `Term.depth`
    measure: `fold` counted once, `if`, tuples and indexing not at all)."""
    if symbol.kind == "circuit":
        return 1
    scope = checked.scopes.visible[symbol.module]

    def callee(name: str) -> int:
        found = scope.get(name)
        return chain_depth(found, checked) if found is not None and found.kind in ("fn", "circuit") else 0

    def function(e: ast.Expr) -> int:  # a function value: a name, or compose(f, g)
        if isinstance(e, ast.Call) and e.func == "compose":
            return sum(function(a) for a in e.args)
        return callee(e.name) if isinstance(e, ast.Var) else 0

    def depth(e: ast.Expr, env: dict[str, int]) -> int:
        if isinstance(e, ast.Var):
            return env.get(e.name, 0)
        if isinstance(e, ast.Call) and e.func in ("map", "zip_with", "fold"):
            return function(e.args[0]) + max(depth(a, env) for a in e.args[1:])
        own = callee(e.func) if isinstance(e, ast.Call) else 0
        return own + max((depth(c, env) for c in _children(e)), default=0)

    env: dict[str, int] = {}
    for let in symbol.decl.body.lets:
        env[let.name] = depth(let.value, env)
    return depth(symbol.decl.body.result, env)


def _children(e: ast.Expr) -> list[ast.Expr]:
    found = []
    for value in vars(e).values():
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, ast.Expr.__args__):
                found.append(item)
    return found
