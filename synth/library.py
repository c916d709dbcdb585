"""Library learning, DreamCoder-style and small (Ellis et al. 2021): after a set of problems is solved,
the sub-programs their solutions share become `fn`s of a generated module, so a later search takes
each as one step and reaches deeper programs within the same size.

A candidate is any fragment of a solution — a sub-term cut at some depth, what lies below the cut
becoming parameters — that computes something (three nodes at least), its variables renamed in order
of appearance so `rot90(hmirror(g))` and `rot90(hmirror(x))` are one; a `compose` chain passed to
`map` is a unary function too. Each is
scored by compression, the solutions it occurs in times the nodes it saves (DreamCoder's MDL
criterion, counted on sizes); those used by at least two solutions are kept, best first. Only
sub-terms over the stdlib's circuits are abstracted, so the module `use`s nothing but the stdlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from circ.lang import types as T
from circ.lang.modules import stdlib_dir
from circ.synth.spec import Spec
from circ.synth.terms import Compose, Fn, Global, Term, var

MIN_SIZE = 3  # the smallest sub-term worth a name: a call of a call, or map(f, g(x))


@dataclass(frozen=True)
class LearnedFn:
    name: str
    params: tuple[tuple[str, T.Type], ...]
    body: Term
    uses: int  # solutions it occurs in
    modules: tuple[str, ...]  # the stdlib modules its circuits come from

    @property
    def text(self) -> str:
        params = ", ".join(f"{n}: {t}" for n, t in self.params)
        return f"fn {self.name}({params}) -> {self.body.type} {{ {self.body.render()} }}"

    @property
    def saves(self) -> int:
        return _saves(self.body, self.params)


@dataclass(frozen=True)
class Library:
    fns: tuple[LearnedFn, ...]
    solved: int  # problems it was learned from

    @property
    def text(self) -> str:
        if not self.fns:
            return ""
        modules = sorted({m for f in self.fns for m in f.modules})
        lines = [
            f"# Learned by `circ synth` from {self.solved} solved problems: sub-programs that several",
            "# solutions share, as functions a later search can call in one step.",
            *(f"use stdlib.{m};" for m in modules),
            "",
        ]
        for f in self.fns:
            lines += [f"# in {f.uses} solutions", f.text]
        return "\n".join(lines) + "\n"


def learn_library(solved: list[tuple[Spec, Term]], max_fns: int = 8, min_uses: int = 2) -> Library:
    found: dict[str, tuple[Term, tuple[tuple[str, T.Type], ...], set[int], tuple[str, ...]]] = {}
    for k, (spec, term) in enumerate(solved):
        modules = _stdlib_modules(spec)
        for sub in _candidates(term):
            if not sub.globals() <= modules.keys():
                continue
            body, params = _canonical(sub)
            key = f"{params}:{body.render()}"
            entry = found.setdefault(
                key, (body, params, set(), tuple(sorted({modules[g] for g in sub.globals()})))
            )
            entry[2].add(k)
    ranked = sorted(
        found.values(), key=lambda e: (-len(e[2]) * _saves(e[0], e[1]), -e[0].size, e[0].render())
    )
    fns: list[LearnedFn] = []
    names: set[str] = set()
    for body, params, users, modules in ranked:
        if len(users) < min_uses or len(fns) == max_fns:
            continue
        fn = LearnedFn(_name(body, names), params, body, len(users), modules)
        if fn.saves > 0:
            names.add(fn.name)
            fns.append(fn)
    return Library(tuple(fns), len(solved))


def _saves(body: Term, params: tuple) -> int:
    """Nodes saved per use: the body's size less the call that replaces it."""
    return body.size - 1 - len(params)


def _candidates(term: Term) -> list[Term]:
    """Every fragment of the solution: each sub-term cut at each depth, what is below the cut a
    parameter (equal sub-terms one parameter), as DreamCoder's fragments with holes, so
    `successor(successor(shift_left(xs)))` yields `successor(successor(x0))`."""
    subs = [
        _cut(s, depth)
        for s in term.subterms()
        if s.kind not in ("var", "const")
        for depth in range(1, _height(s) + 1)
    ]
    for s in term.subterms():
        if s.kind == "map" and isinstance(s.fn, Compose):
            (arg_type,) = s.fn.type.params
            subs.append(applied(s.fn, var("c", arg_type)))  # the mapped function itself
    return [s for s in subs if s.size >= MIN_SIZE and any(p.kind == "var" for p in s.subterms())]


def _height(t: Term) -> int:
    return 1 + max(map(_height, t.parts)) if t.parts else 0


def _cut(t: Term, depth: int) -> Term:
    if t.kind in ("var", "const"):
        return t
    if depth == 0:
        return var(f"□{t.render()}", t.type)  # a hole, named by what it replaces
    return Term(t.kind, t.type, tuple(_cut(p, depth - 1) for p in t.parts), t.fn, t.value)


def applied(fn: Fn, arg: Term) -> Term:
    """`fn` applied to `arg` as nested calls: compose(f, g) on x is f(g(x))."""
    if isinstance(fn, Global):
        return Term("call", fn.type.result, (arg,), fn)
    return applied(fn.f, applied(fn.g, arg))


def _canonical(term: Term) -> tuple[Term, tuple[tuple[str, T.Type], ...]]:
    """The term with its variables renamed x0, x1, … in order of first appearance."""
    renamed: dict[str, str] = {}
    params: list[tuple[str, T.Type]] = []

    def walk(t: Term) -> Term:
        if t.kind == "var":
            if t.value not in renamed:
                renamed[t.value] = f"x{len(renamed)}"
                params.append((renamed[t.value], t.type))
            return var(renamed[t.value], t.type)
        return Term(t.kind, t.type, tuple(walk(p) for p in t.parts), t.fn, t.value)

    return walk(term), tuple(params)


def _name(body: Term, taken: set[str]) -> str:
    """`lib_` and what the body does, outermost first: `lib_map_color_succ_color_succ`."""
    words: list[str] = []
    for s in body.subterms():
        if s.kind in ("map", "zip_with", "fold"):
            words.append(s.kind)
        if s.fn is not None:
            words += [g.name for g in _globals_in_order(s.fn)]
    base = "lib_" + "_".join(words[:4])
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    return name


def _globals_in_order(fn: Fn) -> list[Global]:
    return [fn] if isinstance(fn, Global) else [fn.f, *_globals_in_order(fn.g)]


def _stdlib_modules(spec: Spec) -> dict[str, str]:
    """Names in the spec's scope declared by a stdlib module → that module's name."""
    checked, root = spec.checked, spec.checked.program.root
    stdlib = stdlib_dir()
    found = {}
    for name, symbol in checked.scopes.visible[root].items():
        path = Path(symbol.module).resolve()
        if symbol.kind in ("circuit", "fn") and path.parent == stdlib:
            found[name] = path.stem
    return found
