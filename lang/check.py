"""The type checker: resolves every name, types every expression, checks contracts are well formed.

Two languages share one set of expression rules (`check_expr`): function bodies (`check_body`, where
every computation is a learned circuit and combinators are typed by `check_combinators`) and contracts
(`check_contract`, specifications written with operators). All errors of a program are collected and
raised together, sorted by position; no recursion is allowed (`recursion`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from circ.lang import ast
from circ.lang import types as T
from circ.lang.check_body import BodyChecker
from circ.lang.check_contract import ContractChecker
from circ.lang.check_expr import Binding, DeclState
from circ.lang.check_synth import check_examples
from circ.lang.diagnostics import CircError, Diagnostic, error, warning
from circ.lang.modules import Program
from circ.lang.recursion import recursion_errors
from circ.lang.scope import Scopes, Symbol, build_scopes


@dataclass
class Checked:
    """A typed program: the parse, the scopes, and a type for every expression node."""

    program: Program
    scopes: Scopes
    types: dict[object, T.Type] = field(default_factory=dict)  # expression node → its type
    callees: dict[object, Symbol] = field(default_factory=dict)  # Call/Var node → the global it names
    warnings: list[Diagnostic] = field(default_factory=list)

    def symbols(self, module: str | None = None) -> list[Symbol]:
        """Declarations of a module (default: the root file), in source order."""
        return list(self.scopes.own[module or self.program.root].values())

    def function(self, name: str) -> Symbol | None:
        symbol = self.scopes.lookup(self.program.root, name)
        return symbol if symbol is not None and symbol.kind in ("fn", "circuit") else None


def check(program: Program) -> Checked:
    """Type-check a whole program; raises `CircError` with every error found, else returns warnings too."""
    checked, diagnostics = check_leniently(program)
    errors = [d for d in diagnostics if d.is_error]
    if errors:
        raise CircError(errors, program.sources)
    checked.warnings = diagnostics
    return checked


def check_leniently(program: Program) -> tuple[Checked, list[Diagnostic]]:
    """Every diagnostic, sorted by position, and the types of all that could be typed despite them
    (an editor's hover and completion in a file that does not check yet)."""
    scopes = build_scopes(program)
    checked = Checked(program, scopes)
    diagnostics = list(scopes.diagnostics)
    functions = []
    for path in program.modules:
        for symbol in scopes.own[path].values():
            if symbol.kind != "type":
                diagnostics.extend(_declaration(checked, symbol))
            if symbol.kind == "fn":
                functions.append(symbol)
    diagnostics.extend(recursion_errors(functions, checked.callees))
    return checked, sorted(diagnostics, key=_position)


def _position(d: Diagnostic) -> tuple:
    return (d.span.path, d.span.line, d.span.column)


def _declaration(checked: Checked, symbol: Symbol) -> list[Diagnostic]:
    """One `fn` or `circuit`: its parameters, its contracts and (for a `fn`) its body."""
    state = DeclState(checked, symbol)
    decl, sig = symbol.decl, symbol.signature
    assert sig is not None
    for param, (name, type_) in zip(decl.params, sig.params, strict=True):
        if name in state.env:
            state.diagnostics.append(error(param.span, f"parameter `{name}` is declared twice"))
        state.env[name] = Binding(type_, param.span, "param")
    contracts = ContractChecker(state)
    for contract in decl.contracts:
        contracts.clause(contract, sig.result)
    if isinstance(decl, ast.SynthDecl):
        check_examples(state, decl)
    if isinstance(decl, ast.FnDecl):
        BodyChecker(state).block(decl.body, sig.result)
        for name, binding in state.env.items():
            if binding.kind == "param" and not binding.used:
                state.diagnostics.append(warning(binding.span, f"parameter `{name}` is never used"))
    return state.diagnostics
