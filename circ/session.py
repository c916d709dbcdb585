"""A REPL session on the learned circuits (DESIGN §9): declarations entered one at a time, values bound
with `let`, expressions evaluated and shown with their type, confidence and contract checks.

A session is a program held as text: a loaded file, then every `use`, `type`, `fn` and `circuit`
entered since. Each input is checked as part of that program, so a name means exactly what it would in
a file. An expression `e` becomes the body of a generated `fn __repl() -> T { lets…; e }`, checked once
to learn `T`, then compiled and run on one row with a trace. A `let` keeps its value as a typed literal
(a function value keeps its expression), so later inputs do not rerun its circuits. A new `fn` is run
at once on the *running example*, as RASP's REPL shows each value on its example: each parameter takes
the value set with `set_example(name, …)`, else a fixed pseudo-random value of its type.

Errors are the checker's diagnostics, moved from the generated program back onto what was typed
(`<input>` for the line just entered, `<fn f>`, `<let x>`, … for earlier ones). Torch is imported only
when something runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from circ import api
from circ.lang import ast
from circ.lang import types as T
from circ.lang.check import Checked
from circ.lang.diagnostics import CircError, Diagnostic, error
from circ.lang.errors import UserError
from circ.lang.layout import format_value, unflatten
from circ.lang.modules import read_source
from circ.lang.parser import parse
from circ.lang.scope import COMBINATORS

if TYPE_CHECKING:
    import networkx as nx

    from circ.circuit.provider import CircuitProvider
    from circ.learn.catalog import Catalog, CertificateRecord, CircuitRecord
    from circ.verify.report import Report

N_SPAN, N_FRAME = "span", "frame"  # circ.compiler.nodes' keys (not imported: it needs networkx)
ENTRY = "__repl"  # the generated function an expression is evaluated in
INPUT = "<input>"  # where a diagnostic about the line just entered points
DECLARATIONS = ("use", "type", "fn", "circuit")


@dataclass(frozen=True)
class _Piece:
    """Entered text and the lines it occupies in the generated program."""

    label: str
    text: str
    first: int = 0
    last: int = 0


@dataclass(frozen=True)
class Evaluation:
    """A value computed on the circuits: what was evaluated, its type and value, and how sure."""

    what: str  # the expression, `let x`, or `f(3, 5)` on the running example
    type: T.Type
    value: object = None  # None for a function value, which is not run
    confidence: float | None = None  # the least confident circuit call; None when none ran
    checked: int = 0  # contracts evaluated on this run (circuit `ensures`, and the fn's own)
    failed: tuple[str, ...] = ()  # the calls whose `ensures` did not hold
    ran: api.Ran | None = field(default=None, repr=False)  # the traced run, for `:trace`
    note: str = ""

    @property
    def contracts_held(self) -> bool | None:
        """True when every contract checked held; None when there was none to check."""
        return None if not self.checked else not self.failed


@dataclass(frozen=True)
class Declared:
    """A declaration the session accepted, with its value on the running example for a `fn`."""

    kind: str  # "use" | "type" | "fn" | "circuit"
    name: str
    signature: str
    example: Evaluation | None = None
    note: str = ""  # e.g. why a declared circuit cannot run


@dataclass
class Session:
    """State of one REPL: the loaded file, what was entered since, and where circuits come from."""

    provider: CircuitProvider | None = None
    catalog: Catalog | None = None
    device: str = "cpu"
    base: Path | None = None  # the loaded file (`:load`)
    base_text: str = ""
    uses: dict[str, _Piece] = field(default_factory=dict)
    items: dict[str, _Piece] = field(default_factory=dict)  # name → `type`, `fn` or `circuit` text
    lets: dict[str, tuple[_Piece, T.Type]] = field(default_factory=dict)  # name → `let` text, type
    examples: dict[str, object] = field(default_factory=dict)  # parameter name → running example
    checked: Checked | None = None  # the session's program as last accepted

    # --- the session's program ----------------------------------------------------------------

    @property
    def path(self) -> str:
        """The generated program's path: the loaded file's (its `use`s resolve beside it), else one
        in the working directory."""
        return str(self.base) if self.base is not None else "<repl>"

    def _source(self, extra: list[_Piece], wrapper: list[_Piece] | None = None) -> tuple[str, list[_Piece]]:
        """The program: the loaded file, the session's declarations, `extra` declarations, then the
        generated function `wrapper` (its first piece the head) with the session's lets inside."""
        lines = self.base_text.splitlines()
        pieces = [*self.uses.values(), *self.items.values(), *extra]
        if wrapper:
            pieces += [wrapper[0], *(p for p, _ in self.lets.values()), *wrapper[1:]]
        placed = []
        for piece in pieces:
            first = len(lines) + 1
            lines.extend(piece.text.splitlines() or [""])
            placed.append(_Piece(piece.label, piece.text, first, len(lines)))
        return "\n".join(lines) + "\n", placed

    def _check(self, extra: list[_Piece], wrapper: list[_Piece] | None = None) -> Checked:
        text, placed = self._source(extra, wrapper)
        try:
            return api.check(self.path, text)
        except CircError as exc:
            raise _relocated(exc, placed, self.path) from None

    def _compile(self, wrapper: list[_Piece] | None, entry: str) -> api.Compiled:
        text, placed = self._source([], wrapper)
        try:
            compiled = api.compile(self.path, entry, text)
        except CircError as exc:
            raise _relocated(exc, placed, self.path) from None
        _relabel(compiled, placed, self.path)
        return compiled

    def _accept(self) -> Checked:
        self.checked = self._check([])
        return self.checked

    # --- inputs -------------------------------------------------------------------------------

    def declare(self, text: str) -> list[Declared]:
        """`use`, `type`, `fn` and `circuit` declarations; a name entered again replaces its old
        declaration. Nothing changes when the new program does not check."""
        module = _parse(text)
        saved = (dict(self.uses), dict(self.items))
        for item in module.items:  # what the input redefines leaves the session first
            if isinstance(item, ast.Use):
                self.uses.pop(".".join(item.path), None)
            else:
                self.items.pop(item.name, None)
        try:
            checked = self._check([_Piece(INPUT, text)])
        except CircError:
            self.uses, self.items = saved
            raise
        lines = text.splitlines()
        for item in module.items:  # kept one piece per declaration, so each can be replaced alone
            if isinstance(item, ast.Use):
                name = ".".join(item.path)
                self.uses[name] = _Piece(f"<use {name}>", _excerpt(lines, item.span))
            else:
                kind = {ast.FnDecl: "fn", ast.CircuitDecl: "circuit", ast.TypeAlias: "type"}[type(item)]
                self.items[item.name] = _Piece(f"<{kind} {item.name}>", _excerpt(lines, item.span))
        self.checked = checked
        return [self._declared(checked, item) for item in module.items]

    def _declared(self, checked: Checked, item: ast.Item) -> Declared:
        if isinstance(item, ast.Use):
            return Declared("use", ".".join(item.path), "")
        symbol = checked.scopes.lookup(checked.program.root, item.name)
        assert symbol is not None
        if symbol.kind == "type":
            return Declared("type", symbol.name, f"{symbol.name} = {symbol.alias}")
        signature = str(symbol.signature)
        if symbol.kind == "circuit":
            return Declared("circuit", symbol.name, signature, note=self._availability(symbol))
        try:
            return Declared("fn", symbol.name, signature, example=self.run_example(symbol.name))
        except UserError as exc:  # declared all the same; it just cannot run yet (a missing circuit)
            return Declared("fn", symbol.name, signature, note=f"not run on the running example: {exc}")

    def _availability(self, symbol) -> str:
        if self.provider is None:
            return "no catalog to run it from"
        from circ.circuit.provider import CircuitUnavailable

        sig = symbol.signature
        try:
            self.provider.load(symbol.decl.learned, tuple(t for _, t in sig.params), sig.result)
        except CircuitUnavailable as exc:
            return str(exc)
        return f'runs "{symbol.decl.learned}" from the catalog'

    def let(self, text: str) -> Evaluation:
        """`let NAME [: T] = e;`: evaluated now; later inputs see its value (or, for a function, its
        expression)."""
        text = text.rstrip()
        text = text if text.endswith(";") else text + ";"
        let = _let(text)
        piece = _Piece(f"<let {let.name}>", text)
        checked = self._phase_one([_Piece(INPUT, text)], f"let __it = {let.name};")
        found = checked.types[_it(checked).value]
        if isinstance(found, T.FnT):
            self.lets.pop(let.name, None)
            self.lets[let.name] = (piece, found)
            return Evaluation(f"let {let.name}", found, note="a function: bound, not run")
        evaluation = self._evaluate([_Piece(INPUT, text)], let.name, found, f"let {let.name}")
        literal = f"let {let.name}: {found} = {format_value(evaluation.value)};"
        self.lets.pop(let.name, None)
        self.lets[let.name] = (_Piece(f"<let {let.name}>", literal), found)
        return evaluation

    def type_of(self, text: str) -> T.Type:
        """The type of an expression in the session (nothing runs)."""
        expr = _expression(text)
        checked = self._phase_one([], None, expr)
        return checked.types[_it(checked).value]

    def evaluate(self, text: str) -> Evaluation:
        """An expression, run on the circuits with a trace."""
        expr = _expression(text)
        found = self.type_of(expr)
        if isinstance(found, T.FnT):
            return Evaluation(expr, found, note="a function: pass it to map, zip_with, fold or call it")
        return self._evaluate([], expr, found, expr)

    def _phase_one(self, before: list[_Piece], result: str | None, expr: str | None = None) -> Checked:
        """Check the generated function with the input bound to `__it`, to learn its type."""
        head = _Piece("<repl>", f"fn {ENTRY}() -> Bool {{")
        if expr is not None:
            tail = [_Piece("<repl>", "let __it ="), _Piece(INPUT, expr), _Piece("<repl>", "; true }")]
        else:
            tail = [_Piece("<repl>", result or ""), _Piece("<repl>", "true }")]
        return self._check([], [head, *before, *tail])

    def _evaluate(self, before: list[_Piece], result: str, type_: T.Type, what: str) -> Evaluation:
        label = INPUT if not before else "<repl>"
        head = _Piece("<repl>", f"fn {ENTRY}() -> {type_} {{")
        compiled = self._compile([head, *before, _Piece(label, result), _Piece("<repl>", "}")], ENTRY)
        return self._run(compiled, what, [])

    def run_example(self, name: str) -> Evaluation:
        """A `fn` of the session on the running example."""
        checked = self.checked or self._accept()
        symbol = checked.function(name)
        if symbol is None or symbol.kind != "fn":
            raise CircError([error(ast.Span(INPUT, 1, 1, 1, len(name) + 1), f"no function `{name}`")])
        args = [self.example(pname, t) for pname, t in symbol.signature.params]
        call = f"{name}({', '.join(format_value(a) for a in args)})"
        compiled = self._compile(None, name)
        return self._run(compiled, call, args, symbol.decl)

    def _run(self, compiled: api.Compiled, what: str, args: list[object], decl=None) -> Evaluation:
        if self.provider is None:
            return Evaluation(
                what, compiled.checked.function(compiled.entry).signature.result, note="no catalog"
            )
        from circ.lang.evaluate import satisfied
        from circ.runtime.trace import trace_row
        from circ.runtime.values import from_batch, to_batch

        row = {n: a for (n, _), a in zip(compiled.params, args, strict=True)}
        batch = to_batch([row], compiled.params)
        ran = api.run(compiled, batch, self.provider, trace=True, device=self.device)
        result_type = compiled.checked.function(compiled.entry).signature.result
        value = from_batch(result_type, ran.execution.output)[0]
        steps = [s for s in trace_row(ran.graph, ran.execution, 0) if s.confidence is not None]
        checks = [s for s in steps if s.ensures is not None]
        failed = [f"{s.what} at {s.span}" for s in checks if s.ensures is False]
        own = satisfied(decl, args, value) if decl is not None else None
        if own is False:
            failed.append(f"{decl.name}'s own ensures")
        confidence = min((s.confidence for s in steps), default=None)
        return Evaluation(
            what, result_type, value, confidence, len(checks) + (own is not None), tuple(failed), ran
        )

    # --- running example ----------------------------------------------------------------------

    def set_example(self, assignment: str) -> tuple[str, object]:
        """`NAME=VALUE`: the running example of every parameter called NAME."""
        from circ.runtime.values import InputError, parse_text

        name, sep, value = assignment.partition("=")
        if not sep or not name.strip().isidentifier():
            raise InputError(f"{assignment!r}: write an example as NAME=VALUE, e.g. x=3")
        self.examples[name.strip()] = parse_text(value.strip())
        return name.strip(), self.examples[name.strip()]

    def example(self, name: str, t: T.Type) -> object:
        """The running example for a parameter: the one set for its name if it fits the type, else a
        fixed pseudo-random value of the type (the same in every session)."""
        from circ.lang.layout import contains

        if name in self.examples:
            value = self.examples[name]
            if contains(t, _tuples(t, value)):
                return _tuples(t, value)
        rng = random.Random(f"circ example {name}: {t}")  # fixed, and differing between parameters
        return unflatten(t, [rng.randint(leaf.low, leaf.high) for leaf in T.parts(t)])

    # --- commands -----------------------------------------------------------------------------

    def graph(self, text: str) -> nx.MultiDiGraph:
        """The lowered graph of a session function, or of an expression."""
        text = text.strip()
        checked = self.checked or self._accept()
        if text.isidentifier() and checked.function(text) is not None:
            return self._compile(None, text).graph
        expr = _expression(text)
        found = self.type_of(expr)
        pieces = [_Piece("<repl>", f"fn {ENTRY}() -> {found} {{"), _Piece(INPUT, expr), _Piece("<repl>", "}")]
        return self._compile(pieces, ENTRY).graph

    def verify(self, name: str) -> Report:
        """`circ verify` on the session's program with `name` as its entry."""
        from circ.verify.report import verify_program

        if self.catalog is None:
            raise CircError([error(ast.Span(INPUT, 1, 1, 1, 2), "no catalog to verify against")])
        checked = self.checked or self._accept()
        if checked.function(name.strip()) is None:
            span = ast.Span(INPUT, 1, 1, 1, len(name) + 1)
            raise CircError([error(span, f"no function `{name.strip()}` to verify")])
        return verify_program(checked, self.catalog, device=self.device, entry=name.strip(), examples=25)

    def catalog_entries(self, pattern: str = "") -> list[tuple[CircuitRecord, CertificateRecord | None]]:
        """Catalogued circuits whose name contains `pattern` (or matches it as a glob)."""
        from fnmatch import fnmatch

        if self.catalog is None:
            return []
        pattern = pattern.strip()
        return [
            (r, self.catalog.latest_certificate(r.ref))
            for r in self.catalog.circuits()
            if not pattern or pattern in r.name or fnmatch(r.name, pattern)
        ]

    def load(self, path: str | Path) -> list[str]:
        """Make a file the session's base (its declarations and `use`s in scope); returns its names."""
        path = Path(path)
        text = read_source(path)
        old = (self.base, self.base_text)
        self.base, self.base_text = path, text
        try:
            checked = self._accept()
        except CircError:
            self.base, self.base_text = old
            raise
        return [s.name for s in checked.symbols()]

    def reload(self) -> list[str]:
        if self.base is None:
            raise CircError([error(ast.Span(INPUT, 1, 1, 1, 2), "no file loaded (`:load FILE` first)")])
        return self.load(self.base)

    # --- completion ---------------------------------------------------------------------------

    def names(self) -> dict[str, str]:
        """Every name in scope at the prompt, with what it is (for completion)."""
        checked = self.checked
        if checked is None:
            try:
                checked = self._accept()
            except CircError:
                checked = None
        found: dict[str, str] = {}
        if checked is not None:
            for name, symbol in checked.scopes.visible[checked.program.root].items():
                found[name] = (
                    str(symbol.alias) if symbol.kind == "type" else f"{symbol.kind} {symbol.signature}"
                )
        found.update({name: f"let : {t}" for name, (_, t) in self.lets.items()})
        found.update({name: "combinator" for name in COMBINATORS})
        return found


def classify(text: str) -> str:
    """What an input is: "empty", "command" (`:…`), "let", "declaration" or "expression"."""
    stripped = text.strip()
    if not stripped:
        return "empty"
    if stripped.startswith(":"):
        return "command"
    first = stripped.split(None, 1)[0].split("(", 1)[0]
    if first == "let":
        return "let"
    return "declaration" if first in DECLARATIONS else "expression"


def _parse(text: str) -> ast.Module:
    try:
        return parse(text, INPUT)
    except CircError as exc:
        exc.sources = {INPUT: text}
        raise


def _excerpt(lines: list[str], span: ast.Span) -> str:
    chosen = lines[span.line - 1 : span.end_line]
    chosen[-1] = chosen[-1][: span.end_column - 1]
    chosen[0] = chosen[0][span.column - 1 :]
    return "\n".join(chosen)


def _let(text: str) -> ast.Let:
    """The one `let` of an input, parsed inside a function so the grammar's own rule reads it."""
    try:
        module = parse(f"fn f() -> Bool {{ {text} true }}", INPUT)
    except CircError as exc:
        raise _shifted(exc, text) from None
    decl = module.items[0]
    assert isinstance(decl, ast.FnDecl)
    if len(decl.body.lets) != 1:
        raise CircError(
            [error(ast.Span(INPUT, 1, 1, 1, 2), "write one `let NAME = …;` at a time")], {INPUT: text}
        )
    return decl.body.lets[0]


def _shifted(exc: CircError, text: str) -> CircError:
    prefix = len("fn f() -> Bool { ")
    moved = []
    for d in exc.diagnostics:
        s = d.span
        column = s.column - prefix if s.line == 1 else s.column
        end = s.end_column - prefix if s.end_line == 1 else s.end_column
        moved.append(
            Diagnostic(
                ast.Span(INPUT, s.line, max(1, column), s.end_line, max(1, end)),
                d.message,
                d.severity,
                d.notes,
            )
        )
    return CircError(moved, {INPUT: text})


def _expression(text: str) -> str:
    text = text.strip()
    return text[:-1].rstrip() if text.endswith(";") else text


def _it(checked: Checked) -> ast.Let:
    decl = checked.function(ENTRY).decl
    return decl.body.lets[-1]


def _tuples(t: T.Type, value: object) -> object:
    """JSON gives lists where a tuple type wants tuples."""
    from circ.runtime.values import _tuples_inside

    return _tuples_inside(t, value)


def _moved(span: ast.Span, pieces: list[_Piece], root: str) -> tuple[ast.Span, _Piece | None]:
    """A span of the generated program, on the entered text it lies in (unchanged elsewhere)."""
    piece = next((p for p in pieces if span.path == root and p.first <= span.line <= p.last), None)
    if piece is None:
        return span, None
    first = piece.first - 1
    end_line = min(span.end_line, piece.last) - first
    end_column = span.end_column if span.end_line <= piece.last else len(piece.text.splitlines()[-1]) + 1
    return ast.Span(piece.label, span.line - first, span.column, end_line, end_column), piece


def _relabel(compiled: api.Compiled, pieces: list[_Piece], root: str) -> None:
    """Point the lowered graph's spans (what traces show) at the entered text, not the generated
    program; the pieces' texts join the program's sources so a trace can quote them."""
    graph = compiled.graph
    typed = next((p for p in pieces if p.label == INPUT), None)
    whole = ast.Span(INPUT, 1, 1, max(1, len(typed.text.splitlines())), 1) if typed else None

    def move(span: ast.Span) -> ast.Span:
        moved = _moved(span, pieces, root)[0]
        return whole if whole is not None and moved.path == "<repl>" else moved  # generated: the input's

    for _, attrs in graph.nodes(data=True):
        attrs[N_SPAN] = move(attrs[N_SPAN])
        attrs[N_FRAME] = tuple((name, move(span)) for name, span in attrs.get(N_FRAME, ()))
    compiled.program.sources.update({p.label: p.text for p in pieces})
    if compiled.entry == ENTRY:  # a trace is headed by what was typed, not the generated function
        graph.graph["signature"] = next((p.text for p in pieces if p.label == INPUT), "")
        graph.graph["root"] = INPUT


def _relocated(exc: CircError, pieces: list[_Piece], root: str) -> CircError:
    """Diagnostics in the generated program, moved onto the text they came from."""
    moved, sources = [], {k: v for k, v in exc.sources.items() if k != root}
    for d in exc.diagnostics:
        span, piece = _moved(d.span, pieces, root)
        if piece is not None:
            sources[piece.label] = piece.text
        elif d.span.path == root:
            sources[root] = exc.sources.get(root, "")
        moved.append(Diagnostic(span, d.message, d.severity, d.notes))
    return CircError(moved, sources)
