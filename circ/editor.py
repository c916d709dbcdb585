"""What an editor asks of a `.circ` file (the library behind `circ lsp`): its diagnostics from the real
checker, and — from the last version of it that checked — what the name under the cursor is (its type,
its contract, the certificate of the circuit behind it), where it is defined, and which names could be
typed here.

Positions are circ's: 1-based lines and columns, as `ast.Span` holds them; the language server
converts. Torch-free: checking needs neither torch nor networkx.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from circ.highlight import CONTRACTS
from circ.highlight import KEYWORDS as LEXER_KEYWORDS
from circ.lang import ast
from circ.lang.check import Checked, check_leniently
from circ.lang.diagnostics import CircError, Diagnostic
from circ.lang.modules import load_text
from circ.lang.scope import COMBINATORS, TYPE_NAMES, Symbol

if TYPE_CHECKING:
    from circ.learn.catalog import Catalog, CertificateRecord

KEYWORDS = (*LEXER_KEYWORDS, *CONTRACTS)  # one list: the lexer's, which a test holds to the grammar
_LEARNED = re.compile(r'learned\s+"([\w.\-]*)$')


@dataclass(frozen=True)
class Located:
    """A place in a file: where a definition is."""

    path: str
    span: ast.Span


@dataclass(frozen=True)
class Hover:
    span: ast.Span  # the word hovered
    title: str  # `fn f(x: Mod[97]) -> Mod[97]`, `x: Mod[97]`, `type Z = Mod[97]`
    contract: tuple[str, ...] = ()  # `requires …` / `ensures …`, as written
    circuit: str = ""  # for a circuit: its catalog record and certificate, in words


@dataclass
class Document:
    """One open file: its latest text, its diagnostics, and its last check that succeeded."""

    path: str
    text: str = ""
    diagnostics: list[Diagnostic] | None = None
    checked: Checked | None = None  # the last version that parsed, typed as far as it could be

    def update(self, text: str) -> list[Diagnostic]:
        """Check the new text; every error and warning, in order (a broken import included). A text
        that parses is kept even with type errors: what could be typed still has hover and completion."""
        self.text = text
        try:
            checked, found = check_leniently(load_text(text, self.path))
        except CircError as exc:  # it does not parse, or a module it uses is missing
            self.diagnostics = list(exc.diagnostics)
            return self.diagnostics
        self.checked = checked
        self.diagnostics = found
        return self.diagnostics

    # --- what is at a position ----------------------------------------------------------------

    def _module(self) -> ast.Module | None:
        return self.checked.program.modules.get(self.checked.program.root) if self.checked else None

    def at(self, line: int, column: int) -> list[object]:
        """The AST nodes whose spans hold the position, outermost first."""
        module = self._module()
        if module is None:
            return []
        found: list[object] = []
        _collect(module, line, column, found)
        return found

    def hover(self, line: int, column: int, catalog: Catalog | None = None) -> Hover | None:
        """What the name at the position is: a global (signature, contracts, circuit and
        certificate), a parameter or let (its type), a type alias, or a `learned` catalog name."""
        checked = self.checked
        if checked is None:
            return None
        nodes = self.at(line, column)
        for node in reversed(nodes):
            if isinstance(node, ast.Call) and _inside(node.func_span, line, column):
                symbol = checked.callees.get(node)
                if symbol is not None:
                    return self._symbol(symbol, node.func_span, catalog)
            if isinstance(node, ast.Var):
                symbol = checked.callees.get(node)
                if symbol is not None:
                    return self._symbol(symbol, node.span, catalog)
                found = checked.types.get(node)
                if found is not None:
                    return Hover(node.span, f"{node.name}: {found}")
            if isinstance(node, ast.Param | ast.Let):
                return self._binding(node, nodes)
            if isinstance(node, ast.NamedType):
                symbol = checked.scopes.lookup(checked.program.root, node.name)
                if symbol is not None and symbol.kind == "type":
                    return Hover(node.span, f"type {symbol.name} = {symbol.alias}")
                if node.name in TYPE_NAMES:
                    return Hover(node.span, f"{node.name}: a built-in type")
            if isinstance(node, ast.FnDecl | ast.CircuitDecl) and _inside(node.name_span, line, column):
                symbol = checked.scopes.lookup(checked.program.root, node.name)
                if symbol is not None:
                    return self._symbol(symbol, node.name_span, catalog)
            if isinstance(node, ast.CircuitDecl):
                return self._learned(node, line, column, catalog)
        return None

    def _binding(self, node: ast.Param | ast.Let, nodes: list[object]) -> Hover | None:
        checked = self.checked
        assert checked is not None
        decl = next((n for n in nodes if isinstance(n, ast.FnDecl | ast.CircuitDecl)), None)
        if isinstance(node, ast.Param) and decl is not None:
            symbol = checked.scopes.lookup(checked.program.root, decl.name)
            found = dict(symbol.signature.params).get(node.name) if symbol and symbol.signature else None
            return Hover(node.span, f"{node.name}: {found}") if found else None
        if isinstance(node, ast.Let):
            found = checked.types.get(node.value)
            return Hover(node.span, f"let {node.name}: {found}") if found is not None else None
        return None

    def _symbol(self, symbol: Symbol, span: ast.Span, catalog: Catalog | None) -> Hover:
        if symbol.kind == "type":
            return Hover(span, f"type {symbol.name} = {symbol.alias}")
        source = self.checked.program.sources.get(symbol.module, "") if self.checked else ""
        contracts = tuple(f"{c.kind} {c.expr.span.excerpt(source)}" for c in symbol.decl.contracts)
        circuit = ""
        if symbol.kind == "circuit":
            circuit = circuit_facts(symbol.decl.learned, catalog)
        return Hover(span, f"{symbol.kind} {symbol.signature}", contracts, circuit)

    def _learned(
        self, decl: ast.CircuitDecl, line: int, column: int, catalog: Catalog | None
    ) -> Hover | None:
        text_line = self.text.splitlines()[line - 1] if 0 < line <= len(self.text.splitlines()) else ""
        quoted = f'"{decl.learned}"'
        start = text_line.find(quoted)
        if start < 0 or not start < column <= start + len(quoted):
            return None
        span = ast.Span(self.path, line, start + 1, line, start + len(quoted) + 1)
        return Hover(span, f'learned "{decl.learned}"', (), circuit_facts(decl.learned, catalog))

    # --- definitions --------------------------------------------------------------------------

    def definition(self, line: int, column: int) -> Located | None:
        """Where the name at the position is declared: a global in any module, a type alias, or the
        parameter or let a local name refers to."""
        checked = self.checked
        if checked is None:
            return None
        nodes = self.at(line, column)
        for node in reversed(nodes):
            symbol = None
            if isinstance(node, ast.Call) and _inside(node.func_span, line, column):
                symbol = checked.callees.get(node)
                if symbol is None:
                    return self._local(node.func, nodes)
            elif isinstance(node, ast.Var):
                symbol = checked.callees.get(node)
                if symbol is None:
                    return self._local(node.name, nodes)
            elif isinstance(node, ast.NamedType):
                symbol = checked.scopes.lookup(checked.program.root, node.name)
            if symbol is not None:
                where = symbol.decl.name_span if symbol.kind != "type" else symbol.decl.span
                return Located(symbol.module, where)
        return None

    def _local(self, name: str, nodes: list[object]) -> Located | None:
        decl = next((n for n in nodes if isinstance(n, ast.FnDecl | ast.CircuitDecl)), None)
        if decl is None:
            return None
        found = [p.span for p in decl.params if p.name == name]
        if isinstance(decl, ast.FnDecl):
            position = nodes[-1].span if hasattr(nodes[-1], "span") else decl.span
            found += [
                let.span
                for let in decl.body.lets
                if let.name == name and (let.span.line, let.span.column) < (position.line, position.column)
            ]
        return Located(self.path, found[-1]) if found else None

    # --- completion ---------------------------------------------------------------------------

    def completions(
        self, line: int, column: int, catalog: Catalog | None = None
    ) -> list[tuple[str, str, str]]:
        """(name, what it is, kind) for what could be typed at the position — catalog names inside
        `learned "…"`, else the names in scope there: the enclosing fn's parameters and earlier lets,
        every global visible in the file, the combinators, the built-in types and the keywords. Kinds:
        value, function, type, keyword, circuit (a catalog name)."""
        lines = self.text.splitlines()
        before = lines[line - 1][: column - 1] if 0 < line <= len(lines) else ""
        learned = _LEARNED.search(before)
        if learned:
            if catalog is None:
                return []
            typed = learned.group(1)
            return [(r.name, r.signature, "circuit") for r in catalog.circuits() if r.name.startswith(typed)]
        found: dict[str, tuple[str, str]] = {}
        checked = self.checked
        if checked is not None:
            for node in self.at(line, column):
                if isinstance(node, ast.FnDecl | ast.CircuitDecl):
                    symbol = checked.scopes.lookup(checked.program.root, node.name)
                    if symbol is not None and symbol.signature is not None:
                        found.update({n: (str(t), "value") for n, t in symbol.signature.params})
                    if isinstance(node, ast.FnDecl):
                        for let in node.body.lets:
                            if (let.span.line, let.span.column) < (line, column):
                                found[let.name] = (str(checked.types.get(let.value, "")), "value")
            for name, symbol in checked.scopes.visible[checked.program.root].items():
                if symbol.kind == "type":
                    found.setdefault(name, (f"type {name} = {symbol.alias}", "type"))
                else:
                    found.setdefault(name, (f"{symbol.kind} {symbol.signature}", "function"))
        found.update({c: ("combinator", "function") for c in COMBINATORS})
        found.update({t: ("built-in type", "type") for t in TYPE_NAMES})
        found.update({k: ("keyword", "keyword") for k in KEYWORDS})
        return sorted((name, detail, kind) for name, (detail, kind) in found.items())


def circuit_facts(learned: str, catalog: Catalog | None) -> str:
    """A catalogued circuit in one paragraph: record, task and latest certificate (or why none)."""
    if catalog is None:
        return f'learned "{learned}" (no catalog open)'
    from circ.learn.catalog import CatalogError

    try:
        record = catalog.get(learned)
        certificate = catalog.latest_certificate(record.ref)
    except CatalogError as exc:
        return f'learned "{learned}": {exc}'
    params = f"{record.n_params:,}" if record.n_params is not None else "?"
    facts = f'learned "{record.ref}" ({record.source}): task {record.task}, {params} parameters'
    if certificate is None:
        return facts + "; no certificate (`circ catalog certify`)"
    if certificate.weights_sha256 != record.weights_sha256:
        return facts + "; its latest certificate is for other weights (`circ catalog certify`)"
    return f"{facts}; {certificate_summary(certificate)}"


def certificate_summary(c: CertificateRecord) -> str:
    """`certified (exhaustive): 100% of all 9,409 inputs, fp32 on torch` — never 100% for a sample."""
    from circ.verify.conformance import count

    holds = f"{c.precision} on {c.backend}"
    if c.certified:
        how = "every input run" if c.method == "exhaustive" else "proved by bounds"
        return f"certified: 100% of all {count(c.domain_size)} inputs ({how}; {holds})"
    if c.sampled:
        bound = c.error_bound
        limit = f", error rate ≤ {bound:.2g} (95%)" if bound is not None else ""
        n = c.n_checked or 0
        wrong = round((1.0 - c.accuracy) * n)
        return f"sampled: {wrong:,} wrong of {count(n)} inputs{limit} ({holds}); not certified"
    accuracy = int(c.accuracy * 10_000) / 100  # rounded down: never 100% when short of it
    return f"not certified ({c.method}): {accuracy:.2f}% of the domain of {count(c.domain_size)} ({holds})"


def _inside(span: ast.Span, line: int, column: int) -> bool:
    start, end = (span.line, span.column), (span.end_line, span.end_column)
    return start <= (line, column) <= end


def _collect(node: object, line: int, column: int, found: list[object]) -> None:
    span = getattr(node, "span", None)
    if isinstance(span, ast.Span) and not _inside(span, line, column):
        return
    if isinstance(span, ast.Span):
        found.append(node)
    for f in fields(node):  # type: ignore[arg-type]
        value = getattr(node, f.name)
        for child in value if isinstance(value, tuple) else (value,):
            if hasattr(child, "__dataclass_fields__") and not isinstance(child, ast.Span):
                _collect(child, line, column, found)
