"""A synthesis spec: a `synth fn` declaration read from a `.circ` file, checked like any program.

    synth fn flip(g: Grid[5, 5]) -> Grid[5, 5]
      examples { [[1, 0, …], …] -> [[…], …]; … }
      ensures forall r in 0..5: forall c in 0..5: result[r, c] == g[4 - r, c];

The search runs in the spec's own scope: every circuit and `fn` the file declares or `use`s is a
component, and a generated library module (`circ.synth.library`) can be appended to it. A found body
becomes a program by replacing the `synth fn` declaration with a `fn` of the same signature and
contracts, so what is printed is the user's own file, ready to save and check.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from circ import api
from circ.lang import ast
from circ.lang import types as T
from circ.lang.check import Checked
from circ.lang.check_synth import example_inputs
from circ.lang.errors import UserError
from circ.lang.evaluate import evaluate
from circ.lang.layout import Value
from circ.lang.modules import read_source
from circ.lang.parser import parse
from circ.lang.scope import Symbol
from circ.synth.terms import Term


class SpecError(UserError):
    """The file holds no `synth fn` of the given name."""


@dataclass(frozen=True)
class Example:
    inputs: tuple[Value, ...]
    output: Value


@dataclass(frozen=True)
class Spec:
    path: str
    text: str  # the spec file as written
    library: str  # a generated module's text appended for the search ("" for none)
    checked: Checked  # the spec file with the library, type-checked
    symbol: Symbol  # the `synth fn`
    examples: tuple[Example, ...]

    @property
    def source(self) -> str:
        """What the search checks its steps against: the file, then the library's declarations."""
        return self.text + ("\n" + self.library if self.library else "")

    @property
    def name(self) -> str:
        return self.symbol.name

    @property
    def decl(self) -> ast.SynthDecl:
        return self.symbol.decl

    @property
    def params(self) -> list[tuple[str, T.Type]]:
        return list(self.symbol.signature.params)

    @property
    def result(self) -> T.Type:
        return self.symbol.signature.result

    def contracts(self, kind: str) -> list[ast.Contract]:
        return [c for c in self.decl.contracts if c.kind == kind]

    def program(self, term: Term) -> str:
        """The spec file with its `synth fn` replaced by a `fn` whose body is `term`, followed by the
        library functions the body calls (with the library's `use`s)."""
        used = library_items(self.library, term.globals())
        return self.with_body(f"{{\n  {term.render()}\n}}", used)

    @property
    def head(self) -> str:
        """`fn name(params) -> type`, as the spec writes them."""
        params = ", ".join(source_text(self.text, p.span) for p in self.decl.params)
        return f"fn {self.name}({params}) -> {source_text(self.text, self.decl.ret.span)}"

    def with_body(self, block: str, after: str = "") -> str:
        """The spec file with its `synth fn` replaced by a `fn` of its signature and contracts and this
        `{ … }` block, and `after` (more declarations) at the end."""
        decl, head = self.decl, self.head
        contracts = "".join(f"\n  {source_text(self.text, c.span)}" for c in decl.contracts)
        start, end = _offset(self.text, decl.span.line, decl.span.column), _end(self.text, decl.span)
        text = self.text[:start] + f"{head}{contracts}\n{block}" + self.text[end:]
        return text if not after else text.rstrip("\n") + "\n\n" + after

    def declarations(self, names: list[str]) -> str:
        """The declarations of these names as written in their modules (for a prompt)."""
        checked, shown = self.checked, []
        for name in names:
            symbol = checked.scopes.lookup(checked.program.root, name)
            source = checked.program.sources[symbol.module]
            shown.append(source_text(source, symbol.decl.span))
        return "\n".join(shown)


def load_spec(path: str | Path, name: str | None = None, library: str = "") -> Spec:
    text = read_source(Path(path))
    return spec_from_text(str(path), text, name, library)


def spec_from_text(path: str, text: str, name: str | None = None, library: str = "") -> Spec:
    checked = api.check(path, text + ("\n" + library if library else ""))
    specs = synth_names(checked)
    if not specs:
        raise SpecError(f"{path}: no `synth fn` declaration to search for")
    if name is None:
        name = specs[0]
    if name not in specs:
        raise SpecError(f"{path}: no `synth fn {name}` (the file has: {', '.join(specs)})")
    symbol = checked.scopes.own[checked.program.root][name]
    examples = tuple(
        Example(
            tuple(evaluate(e, {}) for e in example_inputs(symbol.decl, ex)),
            evaluate(ex.output, {}),
        )
        for ex in symbol.decl.examples
    )
    return Spec(path, text, library, checked, symbol, examples)


def synth_names(checked: Checked) -> list[str]:
    return [s.name for s in checked.symbols() if s.kind == "synth"]


def library_items(library: str, names: set[str]) -> str:
    """The library's `use` lines and its `fn`s among `names`, as text ("" when none is used)."""
    if not library:
        return ""
    module = parse(library, "<library>")
    fns = [i for i in module.items if isinstance(i, ast.FnDecl) and i.name in names]
    if not fns:
        return ""
    uses = [source_text(library, i.span) for i in module.items if isinstance(i, ast.Use)]
    return "\n".join([*uses, "", *(source_text(library, f.span) for f in fns)]) + "\n"


def _offset(text: str, line: int, column: int) -> int:
    lines = text.split("\n")  # Lark counts lines by newlines only
    return sum(len(s) + 1 for s in lines[: line - 1]) + column - 1


def _end(text: str, span: ast.Span) -> int:
    return _offset(text, span.end_line, span.end_column)


def source_text(text: str, span: ast.Span) -> str:
    """Exactly the characters `span` covers in `text`, line breaks kept."""
    return text[_offset(text, span.line, span.column) : _end(text, span)]


def save(path: str | Path, text: str) -> None:
    """Write a program or library atomically (a unique temp file beside it, then a rename)."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
