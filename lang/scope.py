"""Top-level names: what each module declares and imports, and how written types resolve.

Each module sees its own declarations plus those of the modules it `use`s directly (no re-export),
so a name means the same thing wherever the module is imported from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from circ.lang import ast
from circ.lang import types as T
from circ.lang.diagnostics import Diagnostic, did_you_mean, error
from circ.lang.limits import INT64, MAX_ALIAS_DEPTH, MAX_LEAVES
from circ.lang.modules import Program

COMBINATORS = ("map", "zip_with", "fold", "compose")
TYPE_NAMES = ("Bool", "Color", "Mod", "Int", "Seq", "Grid")


@dataclass(frozen=True)
class Signature:
    name: str
    params: tuple[tuple[str, T.Type], ...]
    result: T.Type

    @property
    def fn_type(self) -> T.FnT:
        return T.FnT(tuple(t for _, t in self.params), self.result)

    def __str__(self) -> str:
        params = ", ".join(f"{n}: {t}" for n, t in self.params)
        return f"{self.name}({params}) -> {self.result}"


@dataclass
class Symbol:
    """A top-level declaration: a `fn`, a `circuit` or a `type` alias, and the module it lives in."""

    name: str
    kind: str  # "fn" | "circuit" | "type" | "synth" (a spec for `circ synth`, never called)
    decl: ast.FnDecl | ast.CircuitDecl | ast.TypeAlias | ast.SynthDecl
    module: str
    signature: Signature | None = None
    alias: T.Type | None = None


@dataclass
class Scopes:
    """Per module: name → symbol (own and imported), plus the diagnostics found building them."""

    program: Program
    own: dict[str, dict[str, Symbol]] = field(default_factory=dict)
    visible: dict[str, dict[str, Symbol]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def lookup(self, module: str, name: str) -> Symbol | None:
        return self.visible[module].get(name)


def build_scopes(program: Program) -> Scopes:
    scopes = Scopes(program)
    for path, module in program.modules.items():
        own: dict[str, Symbol] = {}
        for item in module.items:
            if isinstance(item, ast.Use):
                continue
            kinds = {
                ast.FnDecl: "fn",
                ast.CircuitDecl: "circuit",
                ast.TypeAlias: "type",
                ast.SynthDecl: "synth",
            }
            kind = kinds[type(item)]
            where = item.name_span if kind != "type" else item.span
            if item.name in COMBINATORS or item.name in TYPE_NAMES or item.name == "result":
                scopes.diagnostics.append(error(where, f"`{item.name}` is built in and cannot be redefined"))
                continue
            if item.name in own:
                first = own[item.name].decl.span
                scopes.diagnostics.append(error(where, f"`{item.name}` is already defined at {first}"))
                continue
            own[item.name] = Symbol(item.name, kind, item, path)
        scopes.own[path] = own
    for path in program.modules:
        visible = dict(scopes.own[path])
        origin: dict[str, str] = {}
        for use, target in program.imports[path]:
            for name, symbol in scopes.own[target].items():
                if name in scopes.own[path]:
                    mine = scopes.own[path][name].decl.span
                    scopes.diagnostics.append(
                        error(
                            mine,
                            f"`{name}` is already defined by `use {'.'.join(use.path)}` ({symbol.decl.span})",
                        )
                    )
                elif name in visible and visible[name] is not symbol:
                    scopes.diagnostics.append(
                        error(use.span, f"`{name}` is defined both here and in {origin[name]}")
                    )
                else:
                    visible[name] = symbol
                    origin[name] = target
        scopes.visible[path] = visible
    _resolve_declarations(scopes)
    return scopes


def _resolve_declarations(scopes: Scopes) -> None:
    for path, own in scopes.own.items():
        for symbol in own.values():
            if symbol.kind == "type":
                if symbol.alias is None:
                    symbol.alias = resolve_type(scopes, path, symbol.decl.type, (symbol.name,))
                continue
            decl = symbol.decl
            params = tuple((p.name, resolve_type(scopes, path, p.type)) for p in decl.params)
            result = resolve_type(scopes, path, decl.ret)
            symbol.signature = Signature(symbol.name, params, result)


class Unknown(T.IntegerT):
    """The type of an expression that already produced an error; it matches anything, so one
    mistake gives one message rather than a cascade."""

    def __str__(self) -> str:
        return "?"


UNKNOWN = Unknown()


def resolve_type(scopes: Scopes, module: str, texpr: ast.TypeExpr, aliasing: tuple[str, ...] = ()) -> T.Type:
    """A written type → a `types.Type`; errors go to `scopes.diagnostics` and give `UNKNOWN`."""
    report = scopes.diagnostics.append
    if isinstance(texpr, ast.TupleType):
        return T.TupleT(tuple(resolve_type(scopes, module, t, aliasing) for t in texpr.items))
    name, args, span = texpr.name, texpr.args, texpr.span
    ints = [a for a in args if isinstance(a, int)]
    kinds = [a for a in args if not isinstance(a, int)]

    def wrong(usage: str) -> T.Type:
        report(error(span, f"`{name}` is written {usage}"))
        return UNKNOWN

    if name in ("Bool", "Color"):
        return (T.BOOL if name == "Bool" else T.COLOR) if not args else wrong(f"`{name}`, without arguments")
    if name == "Mod":
        if len(args) != 1 or len(ints) != 1:
            return wrong("Mod[p], with one number p")
        if ints[0] < 2:
            return wrong(f"Mod[p] with p ≥ 2, not {ints[0]}")
        return T.ModT(ints[0])
    if name == "Int":
        if len(args) != 2 or len(ints) != 2:
            return wrong("Int[lo, hi], with two numbers")
        if ints[0] > ints[1]:
            return wrong(f"Int[lo, hi] with lo ≤ hi, not Int[{ints[0]}, {ints[1]}]")
        if ints[0] < INT64[0] or ints[1] > INT64[1]:
            return wrong("Int[lo, hi] with lo and hi in 64 bits")
        return T.IntT(ints[0], ints[1])
    if name == "Seq":
        if len(args) != 2 or isinstance(args[0], int) or not isinstance(args[1], int):
            return wrong("Seq[T, n], with an element type and a length")
        if args[1] < 1:
            return wrong(f"Seq[T, n] with n ≥ 1, not {args[1]}")
        elem = resolve_type(scopes, module, args[0], aliasing)
        if isinstance(elem, T.FnT):
            return wrong("with a value type as its element")
        return _bounded(T.SeqT(elem, args[1]), span, report)
    if name == "Grid":
        if len(args) != 2 or len(ints) != 2:
            return wrong("Grid[h, w], with two numbers")
        if min(ints) < 1:
            return wrong(f"Grid[h, w] with h, w ≥ 1, not Grid[{ints[0]}, {ints[1]}]")
        return _bounded(T.GridT(ints[0], ints[1]), span, report)
    symbol = scopes.lookup(module, name)
    if symbol is None or symbol.kind != "type":
        known = [n for n, s in scopes.visible[module].items() if s.kind == "type"] + list(TYPE_NAMES)
        report(error(span, f"unknown type `{name}`", *did_you_mean(name, known)))
        return UNKNOWN
    if args or kinds:
        return wrong("without arguments (it is an alias)")
    if len(aliasing) >= MAX_ALIAS_DEPTH:
        report(error(span, f"type aliases chained more than {MAX_ALIAS_DEPTH} deep"))
        return UNKNOWN
    if name in aliasing:
        report(error(span, f"type alias `{name}` refers to itself"))
        return UNKNOWN
    if symbol.alias is None:  # an alias used before its own declaration was resolved
        symbol.alias = resolve_type(scopes, symbol.module, symbol.decl.type, (*aliasing, name))
    return symbol.alias


def _bounded(t: T.Type, span: ast.Span, report) -> T.Type:
    """A Seq or Grid whose values have at most MAX_LEAVES scalars (each is a column at run time)."""
    if isinstance(t, T.SeqT) and isinstance(t.elem, Unknown):
        return t
    leaves = T.width(t)
    if leaves > MAX_LEAVES:
        report(error(span, f"a value of `{t}` has {leaves:,} scalars; circ allows at most {MAX_LEAVES:,}"))
        return UNKNOWN
    return t
