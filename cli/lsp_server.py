"""The `circ lsp` server itself (pygls + lsprotocol), imported only when the command runs.

Diagnostics on open, change and save come from the real checker (`circ.editor`); hover shows a name's
type and contract, and for a circuit its catalog record and certificate; go-to-definition crosses
modules (into the stdlib too); completion offers the names in scope, and catalog names inside
`learned "…"`. LSP positions are 0-based, circ's 1-based; columns are counted in characters (exact
for ASCII source; LSP's UTF-16 units differ only past the Basic Multilingual Plane).
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from circ.editor import Document
from circ.lang import ast
from circ.lang.diagnostics import Diagnostic

if TYPE_CHECKING:
    from circ.learn.catalog import Catalog


class CircServer(LanguageServer):
    def __init__(self, catalog: Catalog | None = None) -> None:
        super().__init__("circ", version("circ"), text_document_sync_kind=lsp.TextDocumentSyncKind.Full)
        self.catalog = catalog
        self.documents: dict[str, Document] = {}

    def document(self, uri: str) -> Document:
        if uri not in self.documents:
            self.documents[uri] = Document(to_fs_path(uri) or uri)
        return self.documents[uri]

    def check(self, uri: str, text: str) -> None:
        doc = self.document(uri)
        found = doc.update(text)
        shown = [_diagnostic(d, doc.path) for d in found]
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=shown))


def _range(span: ast.Span) -> lsp.Range:
    start = lsp.Position(max(span.line - 1, 0), max(span.column - 1, 0))
    end = lsp.Position(max(span.end_line - 1, 0), max(span.end_column - 1, 0))
    return lsp.Range(start, end)


def _diagnostic(d: Diagnostic, path: str) -> lsp.Diagnostic:
    """A diagnostic of this file where it is; one in a module it uses, at the top with its place."""
    here = Path(d.span.path).resolve() == Path(path).resolve()
    message = d.message if here else f"{d.span}: {d.message}"
    severity = lsp.DiagnosticSeverity.Error if d.is_error else lsp.DiagnosticSeverity.Warning
    where = _range(d.span) if here else lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
    related = "\n".join(f"note: {n}" for n in d.notes)
    return lsp.Diagnostic(where, message + (f"\n{related}" if related else ""), severity, source="circ")


def make_server(catalog: Catalog | None = None) -> CircServer:
    server = CircServer(catalog)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CircServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.check(params.text_document.uri, params.text_document.text)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CircServer, params: lsp.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.check(uri, ls.workspace.get_text_document(uri).source)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: CircServer, params: lsp.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.check(uri, ls.workspace.get_text_document(uri).source)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CircServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.documents.pop(params.text_document.uri, None)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: CircServer, params: lsp.HoverParams) -> lsp.Hover | None:
        at = params.position
        found = ls.document(params.text_document.uri).hover(at.line + 1, at.character + 1, ls.catalog)
        if found is None:
            return None
        lines = ["```circ", found.title, *(f"  {c}" for c in found.contract), "```"]
        if found.circuit:
            lines.append(found.circuit)
        content = lsp.MarkupContent(lsp.MarkupKind.Markdown, "\n".join(lines))
        return lsp.Hover(content, _range(found.span))

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: CircServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        at = params.position
        found = ls.document(params.text_document.uri).definition(at.line + 1, at.character + 1)
        if found is None:
            return None
        return lsp.Location(from_fs_path(str(Path(found.path).resolve())) or found.path, _range(found.span))

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=['"']))
    def completion(ls: CircServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        at = params.position
        doc = ls.document(params.text_document.uri)
        doc.text = ls.workspace.get_text_document(params.text_document.uri).source
        items = [
            lsp.CompletionItem(name, detail=detail, kind=_KINDS[kind])
            for name, detail, kind in doc.completions(at.line + 1, at.character + 1, ls.catalog)
        ]
        return lsp.CompletionList(is_incomplete=False, items=items)

    return server


_KINDS = {
    "value": lsp.CompletionItemKind.Variable,
    "function": lsp.CompletionItemKind.Function,
    "type": lsp.CompletionItemKind.Class,
    "keyword": lsp.CompletionItemKind.Keyword,
    "circuit": lsp.CompletionItemKind.Module,
}
