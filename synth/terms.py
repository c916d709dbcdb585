"""The programs the search builds: one expression over the target's parameters, as a small tree.

A term prints as circ source (`render`), so a found program is text the checker reads back. Its
`size` counts the nodes of that text's syntax tree (names of functions passed to combinators
included), which is what the search enumerates by; `depth` is the longest chain of circuit
applications through it (a `fold` counted once, `if`, tuples and projections not at all), the
measure the benchmark reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from circ.lang import types as T
from circ.lang.layout import format_value


@dataclass(frozen=True)
class Global:
    """A declared circuit or `fn`, used as a function value (`depth`: the chain its body runs)."""

    name: str
    type: T.FnT
    depth: int = 1

    size = 1

    def render(self) -> str:
        return self.name

    def apply(self, arg: str) -> str:
        return f"{self.name}({arg})"

    def globals(self) -> set[str]:
        return {self.name}


@dataclass(frozen=True)
class Compose:
    """`compose(f, g)`: x ↦ f(g(x)); always nested to the right, so one function has one form."""

    f: Global
    g: Fn

    @property
    def type(self) -> T.FnT:
        return T.FnT(self.g.type.params, self.f.type.result)

    @property
    def size(self) -> int:
        return 1 + self.f.size + self.g.size

    @property
    def depth(self) -> int:
        return self.f.depth + self.g.depth

    def render(self) -> str:
        return f"compose({self.f.render()}, {self.g.render()})"

    def apply(self, arg: str) -> str:
        return self.f.apply(self.g.apply(arg))

    def globals(self) -> set[str]:
        return self.f.globals() | self.g.globals()


Fn = Global | Compose


@dataclass(frozen=True)
class Term:
    """A value-producing expression: `kind` says which, `parts` are its sub-terms, `fn` the function
    a call or combinator applies, `value` a variable's name, a constant, or a projection's index."""

    kind: str  # "var" | "const" | "call" | "map" | "zip_with" | "fold" | "if" | "tuple" | "proj"
    type: T.Type
    parts: tuple[Term, ...] = ()
    fn: Fn | None = None
    value: object = None

    @property
    def size(self) -> int:
        own = 1 + (self.fn.size if self.fn is not None and self.kind != "call" else 0)
        return own + sum(p.size for p in self.parts)

    @property
    def depth(self) -> int:
        below = max((p.depth for p in self.parts), default=0)
        return below + (self.fn.depth if self.fn is not None else 0)

    def render(self) -> str:
        args = ", ".join(p.render() for p in self.parts)
        match self.kind:
            case "var":
                return str(self.value)
            case "const":
                return format_value(self.value)
            case "call":
                return f"{self.fn.render()}({args})"
            case "map" | "zip_with" | "fold":
                return f"{self.kind}({self.fn.render()}, {args})"
            case "if":
                cond, then, orelse = (p.render() for p in self.parts)
                return f"if {cond} then {then} else {orelse}"
            case "tuple":
                return f"({args})"
            case "proj":
                inner = self.parts[0].render()
                return f"({inner}).{self.value}" if self.parts[0].kind == "if" else f"{inner}.{self.value}"
        raise AssertionError(self.kind)

    def globals(self) -> set[str]:
        """The circuits and functions the term names."""
        own = self.fn.globals() if self.fn is not None else set()
        return own.union(*(p.globals() for p in self.parts))

    def subterms(self) -> list[Term]:
        return [self, *(s for p in self.parts for s in p.subterms())]


def var(name: str, type_: T.Type) -> Term:
    return Term("var", type_, value=name)


def const(value: object, type_: T.Type) -> Term:
    return Term("const", type_, value=value)
