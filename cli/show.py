"""Rich renderings of the parse and the types, for `circ check` and `circ compile --emit ast|types`
(no graph code: checking imports neither networkx nor torch)."""

from __future__ import annotations

from dataclasses import fields

from rich.markup import escape
from rich.text import Text
from rich.tree import Tree

from circ.lang import ast
from circ.lang.check import Checked


def ast_tree(module: ast.Module) -> Tree:
    """The parse of one file as a tree, one line per node with its scalar fields and position."""
    tree = Tree(f"[bold]Module[/] {module.path}")
    for item in module.items:
        _add(tree, item)
    return tree


def _add(parent: Tree, value: object, field_name: str | None = None) -> None:
    prefix = f"[dim]{field_name}:[/] " if field_name else ""
    if not hasattr(value, "__dataclass_fields__"):
        parent.add(f"{prefix}{escape(repr(value))}")
        return
    scalars, children = [], []
    for f in fields(value):  # type: ignore[arg-type]
        v = getattr(value, f.name)
        if isinstance(v, ast.Span):
            continue
        if hasattr(v, "__dataclass_fields__") or (
            isinstance(v, tuple) and v and hasattr(v[0], "__dataclass_fields__")
        ):
            children.append((f.name, v))
        elif v is not None and v != ():
            scalars.append(escape(f"{f.name}={v!r}"))
    span = getattr(value, "span", None)
    where = f" [dim]{span.line}:{span.column}[/]" if isinstance(span, ast.Span) else ""
    branch = parent.add(f"{prefix}[bold cyan]{type(value).__name__}[/] {' '.join(scalars)}{where}")
    for name, v in children:
        for item in v if isinstance(v, tuple) else (v,):
            _add(branch, item, name)


def signatures(checked: Checked) -> Text:
    """Every declaration of the root file with its typed signature and contracts, one per line
    (plain lines, not a table: signatures must never wrap mid-type)."""
    text = Text(f"{checked.program.root}\n", style="bold")
    for symbol in checked.symbols():
        if symbol.kind == "type":
            text.append("  type ", style="dim").append(f"{symbol.name} = {symbol.alias}\n")
            continue
        text.append(f"  {symbol.kind} ", style="dim").append(str(symbol.signature), style="bold cyan").append(
            "\n"
        )
        for contract in symbol.decl.contracts:
            text.append(f"      {contract.kind} ", style="dim").append(
                contract.expr.span.excerpt(checked.program.sources[contract.expr.span.path]) + "\n"
            )
    return text
