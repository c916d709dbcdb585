"""The function-body language: every computation is a learned circuit.

Values have exact types; a literal takes its type from where it is written; a body calls functions
and circuits and passes them to combinators (`check_combinators`), indexes only with numbers written
in the program, and may not use operators — `a + b` is an error that names the circuit to call.
"""

from __future__ import annotations

from circ.lang import ast
from circ.lang import types as T
from circ.lang.check_combinators import CombinatorRules
from circ.lang.check_expr import Binding
from circ.lang.diagnostics import did_you_mean, warning
from circ.lang.scope import COMBINATORS, UNKNOWN, Symbol, Unknown, resolve_type

# What to call instead of an operator in a function body (the stdlib's circuit names).
_CIRCUIT_FOR = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "a circuit", "not": "a circuit"}


class BodyChecker(CombinatorRules):
    def block(self, block: ast.Block, result: T.Type) -> None:
        lets: list[tuple[ast.Let, Binding]] = []
        for let in block.lets:
            declared = self.resolve(let.type) if let.type else None
            before = len(self.state.diagnostics)
            found = self.check(let.value, declared, allow_fn=declared is None)
            if declared is not None and not self.failed_since(before):
                self.expect_type(declared, found, let.value.span, f"`{let.name}` is declared {declared}")
            lets.append((let, self.bind_let(let, declared or found)))
        before = len(self.state.diagnostics)
        found = self.check(block.result, result)
        if not self.failed_since(before):  # a wrong argument inside explains a wrong result: one message
            self.expect_type(result, found, block.result.span, f"`{self.state.symbol.name}` returns {result}")
        for let, binding in lets:
            if not binding.used and not let.name.startswith("_"):
                self.state.diagnostics.append(warning(let.span, f"`{let.name}` is never used"))

    def failed_since(self, before: int) -> bool:
        """Whether checking an expression reported an error inside it (its type is then a consequence)."""
        return any(d.is_error for d in self.state.diagnostics[before:])

    def resolve(self, texpr: ast.TypeExpr) -> T.Type:
        """Resolve a written type, moving any errors into this declaration's list."""
        reported = self.checked.scopes.diagnostics
        before = len(reported)
        resolved = resolve_type(self.checked.scopes, self.state.module, texpr)
        self.state.diagnostics.extend(reported[before:])
        del reported[before:]
        return resolved

    def bind_let(self, let: ast.Let, type_: T.Type) -> Binding:
        previous = self.env.get(let.name)
        if previous is not None:
            what = "parameter" if previous.kind == "param" else "binding"
            self.state.diagnostics.append(
                warning(let.span, f"`{let.name}` shadows the {what} at line {previous.span.line}")
            )
        else:
            global_ = self.checked.scopes.lookup(self.state.module, let.name)
            if global_ is not None and global_.kind != "type":
                self.state.diagnostics.append(
                    warning(let.span, f"`{let.name}` shadows the {global_.kind} `{let.name}`")
                )
        binding = Binding(type_, let.span, "let")
        self.env[let.name] = binding
        return binding

    # --- what a body allows -------------------------------------------------------------------

    def compatible(self, expected: T.Type, found: T.Type) -> bool:
        if isinstance(expected, Unknown) or isinstance(found, Unknown):
            return True
        return expected == found

    def untyped_literal(self, e: ast.IntLit, expected: T.Type | None) -> T.Type:
        if expected is None or isinstance(expected, Unknown):
            return self.error(
                e.span,
                f"cannot tell the type of `{e.value}` here",
                f"give it one, e.g. `let k: Mod[97] = {e.value};`",
            )
        return self.error(e.span, f"expected {expected}, found the number {e.value}")

    def global_value(self, e: ast.Var, symbol: Symbol) -> T.Type:
        self.checked.callees[e] = symbol
        return symbol.signature.fn_type

    def call(self, e: ast.Call, expected: T.Type | None) -> T.Type:
        if e.func in COMBINATORS and e.func not in self.env:
            return self.combinator(e)
        fn = self.callee(e)
        if fn is None:
            self.check_quietly(e.args)
            return UNKNOWN
        if len(e.args) != len(fn.params):
            self.check_quietly(e.args)
            s = "" if len(fn.params) == 1 else "s"
            return self.error(e.span, f"`{e.func}` takes {len(fn.params)} argument{s}, found {len(e.args)}")
        for i, (arg, param) in enumerate(zip(e.args, fn.params, strict=True), 1):
            found = self.check(arg, param)
            self.expect_type(param, found, arg.span, f"argument {i} of `{e.func}` should be {param}")
        return fn.result

    def callee(self, e: ast.Call) -> T.FnT | None:
        binding = self.env.get(e.func)
        if binding is not None:
            binding.used = True
            if isinstance(binding.type, T.FnT):
                return binding.type
            if not isinstance(binding.type, Unknown):
                self.error(e.func_span, f"`{e.func}` is {binding.type}, not a function")
            return None
        symbol = self.checked.scopes.lookup(self.state.module, e.func)
        if symbol is None:
            self.error(e.func_span, f"unknown function `{e.func}`", *did_you_mean(e.func, self.names()))
            return None
        if symbol.kind == "type":
            self.error(e.func_span, f"`{e.func}` is a type, not a function")
            return None
        self.checked.callees[e] = symbol
        return symbol.signature.fn_type

    def dynamic_index(self, index: ast.Expr) -> None:
        self.check(index, None)
        self.error(
            index.span,
            "an index in a function body must be a number written in the program",
            "indices are static: use map, zip_with or fold to visit every element",
        )

    def operator(self, op: str, span: ast.Span) -> T.Type:
        circuit = _CIRCUIT_FOR.get(op, "a circuit")
        hint = f"call `{circuit}(…)`" if circuit != "a circuit" else "call a circuit that computes it"
        return self.error(
            span,
            f"`{op}` can only be used in contracts; in a function body, {hint}",
            "programs compute with learned circuits; operators specify them",
        )

    def binop(self, e: ast.BinOp) -> T.Type:
        for operand in (e.left, e.right):
            if not isinstance(operand, ast.IntLit):  # a bare literal would add a second message
                self.check(operand, None)
        return self.operator(e.op, e.op_span)

    def unaryop(self, e: ast.UnaryOp) -> T.Type:
        self.check(e.operand, None)
        return self.operator(e.op, e.span)

    def forall(self, e: ast.Forall) -> T.Type:
        return self.error(e.span, "`forall` can only be used in contracts")
