"""The type checker: resolves every name, types every expression, checks contracts are well formed.

Checking is bidirectional: an expected type flows into literals (so `Mod[97]`'s literal 120 is an
error where it is written) and the rest is inferred. Operators compute only in contracts: in a
function body every computation is a learned circuit, so `a + b` there is an error that names the
circuit to call. All errors of a program are collected and raised together, sorted by position.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from circ.lang import ast
from circ.lang import types as T
from circ.lang.diagnostics import CircError, Diagnostic, did_you_mean, error, warning
from circ.lang.modules import Program
from circ.lang.scope import COMBINATORS, UNKNOWN, Scopes, Symbol, Unknown, build_scopes, resolve_type

ORDERING = {"<", "<=", ">", ">="}
EQUALITY = {"==", "!="}
LOGIC = {"and", "or"}
# What to call instead of an operator in a function body (the stdlib's circuit names).
_CIRCUIT_FOR = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "a circuit", "not": "a circuit"}


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
    scopes = build_scopes(program)
    checked = Checked(program, scopes)
    diagnostics = list(scopes.diagnostics)
    for path in program.modules:
        for symbol in scopes.own[path].values():
            if symbol.kind != "type":
                diagnostics.extend(_DeclChecker(checked, symbol).run())
    diagnostics.extend(_recursion(checked))
    errors = [d for d in diagnostics if d.is_error]
    if errors:
        raise CircError(sorted(errors, key=_position), program.sources)
    checked.warnings = sorted(diagnostics, key=_position)
    return checked


def _position(d: Diagnostic) -> tuple:
    return (d.span.path, d.span.line, d.span.column)


@dataclass
class _Binding:
    type: T.Type
    span: ast.Span
    kind: str  # "param" | "let" | "result" | "bound"
    used: bool = False


def _loosely_equal(a: T.Type, b: T.Type) -> bool:
    """Type equality in contracts, where every numeric type is just an integer."""
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return True
    if T.is_numeric(a) and T.is_numeric(b):
        return True
    if isinstance(a, T.SeqT) and isinstance(b, T.SeqT):
        return a.n == b.n and _loosely_equal(a.elem, b.elem)
    if isinstance(a, T.TupleT) and isinstance(b, T.TupleT):
        return len(a.items) == len(b.items) and all(map(_loosely_equal, a.items, b.items))
    return a == b


class _DeclChecker:
    """Checks one `fn` or `circuit`: its contracts and (for a `fn`) its body."""

    def __init__(self, checked: Checked, symbol: Symbol) -> None:
        self.checked = checked
        self.symbol = symbol
        self.module = symbol.module
        self.diagnostics: list[Diagnostic] = []
        self.env: dict[str, _Binding] = {}
        self.in_contract = False

    # --- driver -------------------------------------------------------------------------------

    def run(self) -> list[Diagnostic]:
        decl, sig = self.symbol.decl, self.symbol.signature
        assert sig is not None
        for param, (name, type_) in zip(decl.params, sig.params, strict=True):
            if name in self.env:
                self._error(param.span, f"parameter `{name}` is declared twice")
            self.env[name] = _Binding(type_, param.span, "param")
        for contract in decl.contracts:
            self._contract(contract, sig.result)
        if isinstance(decl, ast.FnDecl):
            self._body(decl.body, sig.result)
            for name, binding in self.env.items():
                if binding.kind == "param" and not binding.used:
                    self.diagnostics.append(warning(binding.span, f"parameter `{name}` is never used"))
        return self.diagnostics

    def _contract(self, contract: ast.Contract, result: T.Type) -> None:
        self.in_contract = True
        saved = dict(self.env)
        if contract.kind == "ensures":
            self.env["result"] = _Binding(result, contract.span, "result", used=True)
        found = self.check(contract.expr, None)
        self._want_bool(
            found,
            contract.expr.span,
            f"{'an' if contract.kind == 'ensures' else 'a'} `{contract.kind}` clause",
        )
        for name, binding in saved.items():  # uses in contracts count as uses
            binding.used = binding.used or self.env[name].used
        self.env = saved
        self.in_contract = False

    def _body(self, block: ast.Block, result: T.Type) -> None:
        lets: list[tuple[ast.Let, _Binding]] = []
        for let in block.lets:
            declared = self._resolve(let.type) if let.type else None
            found = self.check(let.value, declared, allow_fn=declared is None)
            if declared is not None:
                self._expect_type(declared, found, let.value.span, f"`{let.name}` is declared {declared}")
            lets.append((let, self._bind_let(let, declared or found)))
        found = self.check(block.result, result)
        self._expect_type(result, found, block.result.span, f"`{self.symbol.name}` returns {result}")
        for let, binding in lets:
            if not binding.used and not let.name.startswith("_"):
                self.diagnostics.append(warning(let.span, f"`{let.name}` is never used"))

    def _resolve(self, texpr: ast.TypeExpr) -> T.Type:
        """Resolve a written type, moving any errors into this checker's list."""
        reported = self.checked.scopes.diagnostics
        before = len(reported)
        resolved = resolve_type(self.checked.scopes, self.module, texpr)
        self.diagnostics.extend(reported[before:])
        del reported[before:]
        return resolved

    def _bind_let(self, let: ast.Let, type_: T.Type) -> _Binding:
        previous = self.env.get(let.name)
        if previous is not None:
            what = "parameter" if previous.kind == "param" else "binding"
            self.diagnostics.append(
                warning(let.span, f"`{let.name}` shadows the {what} at line {previous.span.line}")
            )
        else:
            global_ = self.checked.scopes.lookup(self.module, let.name)
            if global_ is not None and global_.kind != "type":
                self.diagnostics.append(
                    warning(let.span, f"`{let.name}` shadows the {global_.kind} `{let.name}`")
                )
        binding = _Binding(type_, let.span, "let")
        self.env[let.name] = binding
        return binding

    # --- helpers ------------------------------------------------------------------------------

    def _error(self, span: ast.Span, message: str, *notes: str) -> T.Type:
        self.diagnostics.append(error(span, message, *notes))
        return UNKNOWN

    def _compatible(self, expected: T.Type, found: T.Type) -> bool:
        if isinstance(expected, Unknown) or isinstance(found, Unknown):
            return True
        return _loosely_equal(expected, found) if self.in_contract else expected == found

    def _expect_type(self, expected: T.Type, found: T.Type, span: ast.Span, context: str) -> None:
        if not self._compatible(expected, found):
            self._error(span, f"{context}, but this is {found}")

    def _want_bool(self, found: T.Type, span: ast.Span, what: str) -> None:
        if not self._compatible(T.BOOL, found):
            self._error(span, f"{what} must be Bool, but this is {found}")

    def _want_numeric(self, found: T.Type, span: ast.Span, what: str) -> None:
        if not (isinstance(found, Unknown) or T.is_numeric(found)):
            self._error(span, f"{what} needs a number, but this is {found}")

    # --- expressions --------------------------------------------------------------------------

    def check(self, e: ast.Expr, expected: T.Type | None, allow_fn: bool = False) -> T.Type:
        """The type of `e`; `expected` guides literals (mismatches are reported by the caller)."""
        method = getattr(self, "_" + type(e).__name__.lower())
        found = method(e, expected)
        if isinstance(found, T.FnT) and not allow_fn:
            name = e.name if isinstance(e, ast.Var) else e.func if isinstance(e, ast.Call) else "this"
            found = self._error(
                e.span,
                f"`{name}` is a function, not a value: call it, or pass it to map, zip_with, fold or compose",
            )
        self.checked.types[e] = found
        return found

    def _intlit(self, e: ast.IntLit, expected: T.Type | None) -> T.Type:
        if expected is None or isinstance(expected, Unknown):
            if self.in_contract:
                return T.INTEGER
            return self._error(
                e.span,
                f"cannot tell the type of `{e.value}` here",
                f"give it one, e.g. `let k: Mod[97] = {e.value};`",
            )
        if isinstance(expected, T.IntegerT):
            return expected
        if isinstance(expected, T.BoolT):
            return self._error(
                e.span, f"expected Bool, found the number {e.value}", "write `true` or `false`"
            )
        if isinstance(expected, T.ScalarT):
            if not expected.contains(e.value):
                return self._error(
                    e.span, f"{e.value} is out of range for {expected} ({expected.low}..{expected.high})"
                )
            return expected
        if self.in_contract:
            return T.INTEGER
        return self._error(e.span, f"expected {expected}, found the number {e.value}")

    def _boollit(self, e: ast.BoolLit, expected: T.Type | None) -> T.Type:
        return T.BOOL

    def _var(self, e: ast.Var, expected: T.Type | None) -> T.Type:
        binding = self.env.get(e.name)
        if binding is not None:
            binding.used = True
            return binding.type
        if e.name == "result":
            return self._error(e.span, "`result` can only be used in an `ensures` clause")
        symbol = self.checked.scopes.lookup(self.module, e.name)
        if symbol is not None and symbol.kind != "type" and not self.in_contract:
            self.checked.callees[e] = symbol
            return symbol.signature.fn_type
        if symbol is not None:
            kind = "a type" if symbol.kind == "type" else f"a {symbol.kind}, which contracts cannot call"
            return self._error(e.span, f"`{e.name}` is {kind}, not a value")
        return self._error(e.span, f"unknown name `{e.name}`", *did_you_mean(e.name, self._names()))

    def _names(self) -> list[str]:
        return list(self.env) + list(self.checked.scopes.visible[self.module]) + list(COMBINATORS)

    def _call(self, e: ast.Call, expected: T.Type | None) -> T.Type:
        if self.in_contract:
            self._check_quietly(e.args)
            return self._error(
                e.func_span,
                f"contracts cannot call `{e.func}`: they are specifications, written with operators",
            )
        if e.func in COMBINATORS and e.func not in self.env:
            return getattr(self, "_combinator_" + e.func)(e)
        fn = self._callee(e)
        if fn is None:
            self._check_quietly(e.args)
            return UNKNOWN
        if len(e.args) != len(fn.params):
            self._check_quietly(e.args)
            s = "" if len(fn.params) == 1 else "s"
            return self._error(e.span, f"`{e.func}` takes {len(fn.params)} argument{s}, found {len(e.args)}")
        for i, (arg, param) in enumerate(zip(e.args, fn.params, strict=True), 1):
            found = self.check(arg, param)
            self._expect_type(param, found, arg.span, f"argument {i} of `{e.func}` should be {param}")
        return fn.result

    def _check_quietly(self, args: tuple[ast.Expr, ...]) -> None:
        """Check arguments whose expected types are unknown (the call is already an error): report
        their own mistakes, but not that a bare literal has no type."""
        for arg in args:
            if not _is_literal(arg):
                self.check(arg, None, allow_fn=True)

    def _callee(self, e: ast.Call) -> T.FnT | None:
        binding = self.env.get(e.func)
        if binding is not None:
            binding.used = True
            if isinstance(binding.type, T.FnT):
                return binding.type
            if not isinstance(binding.type, Unknown):
                self._error(e.func_span, f"`{e.func}` is {binding.type}, not a function")
            return None
        symbol = self.checked.scopes.lookup(self.module, e.func)
        if symbol is None:
            self._error(e.func_span, f"unknown function `{e.func}`", *did_you_mean(e.func, self._names()))
            return None
        if symbol.kind == "type":
            self._error(e.func_span, f"`{e.func}` is a type, not a function")
            return None
        self.checked.callees[e] = symbol
        return symbol.signature.fn_type

    def _listlit(self, e: ast.ListLit, expected: T.Type | None) -> T.Type:
        if isinstance(expected, T.GridT):
            if len(e.items) != expected.h:
                return self._error(
                    e.span, f"{expected} needs {expected.h} rows, this literal has {len(e.items)}"
                )
            row = T.SeqT(T.COLOR, expected.w)
            for item in e.items:
                self._expect_type(
                    row, self.check(item, row), item.span, f"a row of {expected} should be {row}"
                )
            return expected
        if isinstance(expected, T.SeqT):
            if len(e.items) != expected.n:
                return self._error(
                    e.span, f"{expected} needs {expected.n} items, this literal has {len(e.items)}"
                )
            for item in e.items:
                found = self.check(item, expected.elem)
                self._expect_type(
                    expected.elem, found, item.span, f"an item of {expected} should be {expected.elem}"
                )
            return expected
        if not e.items:
            return self._error(e.span, "cannot tell the type of an empty list")
        first = self.check(e.items[0], None)
        for item in e.items[1:]:
            self._expect_type(
                first, self.check(item, first), item.span, f"items of this list should be {first}"
            )
        if isinstance(first, Unknown):
            return UNKNOWN
        return T.SeqT(first, len(e.items))

    def _tuplelit(self, e: ast.TupleLit, expected: T.Type | None) -> T.Type:
        hints = (
            expected.items if isinstance(expected, T.TupleT) and len(expected.items) == len(e.items) else None
        )
        items = []
        for i, item in enumerate(e.items):
            hint = hints[i] if hints else None
            found = self.check(item, hint)
            if hint is not None:
                self._expect_type(hint, found, item.span, f"component {i} should be {hint}")
            items.append(hint or found)
        return T.TupleT(tuple(items))

    def _proj(self, e: ast.Proj, expected: T.Type | None) -> T.Type:
        base = self.check(e.expr, None)
        if isinstance(base, Unknown):
            return UNKNOWN
        if not isinstance(base, T.TupleT):
            return self._error(e.span, f"`.{e.index}` needs a tuple, but this is {base}")
        if e.index >= len(base.items):
            return self._error(e.span, f"{base} has no component .{e.index} (it has {len(base.items)})")
        return base.items[e.index]

    def _index(self, e: ast.Index, expected: T.Type | None) -> T.Type:
        base = self.check(e.expr, None)
        if isinstance(base, T.SeqT):
            bounds, result = [base.n], base.elem
        elif isinstance(base, T.GridT):
            bounds = [base.h, base.w][: len(e.indices)]
            result = T.COLOR if len(e.indices) == 2 else T.SeqT(T.COLOR, base.w)
        else:
            for index in e.indices:
                self.check(index, T.INTEGER)
            if isinstance(base, Unknown):
                return UNKNOWN
            return self._error(e.span, f"indexing needs a Seq or a Grid, but this is {base}")
        if len(e.indices) > (2 if isinstance(base, T.GridT) else 1):
            return self._error(
                e.span, f"{base} takes {'one or two indices' if len(bounds) > 1 else 'one index'}"
            )
        for index, bound in zip(e.indices, bounds, strict=False):
            if isinstance(index, ast.IntLit):
                self.checked.types[index] = T.IntT(0, bound - 1)
                if not 0 <= index.value < bound:
                    self._error(
                        index.span, f"index {index.value} is out of range for {base} (0..{bound - 1})"
                    )
            elif self.in_contract:
                self._want_numeric(self.check(index, T.INTEGER), index.span, "an index")
            else:
                self.check(index, None)
                self._error(
                    index.span,
                    "an index in a function body must be a number written in the program",
                    "indices are static: use map, zip_with or fold to visit every element",
                )
        return result

    def _if(self, e: ast.If, expected: T.Type | None) -> T.Type:
        self._want_bool(self.check(e.cond, T.BOOL), e.cond.span, "the condition of `if`")
        if expected is None and _is_literal(e.then) and not _is_literal(e.orelse):
            orelse = self.check(e.orelse, None)  # `if c then 1 else x`: the literal takes x's type
            then = self.check(e.then, orelse if not isinstance(orelse, Unknown) else None)
            if not self._compatible(orelse, then):
                return self._error(
                    e.then.span, f"the branches of `if` differ: `then` is {then}, `else` is {orelse}"
                )
            return orelse
        then = self.check(e.then, expected)
        if expected is not None and not isinstance(expected, Unknown) and not self.in_contract:
            orelse = self.check(e.orelse, expected)
            self._expect_type(expected, orelse, e.orelse.span, f"this branch should be {expected}")
            return expected
        orelse = self.check(e.orelse, then if not isinstance(then, Unknown) else None)
        if not self._compatible(then, orelse):
            return self._error(
                e.orelse.span, f"the branches of `if` differ: `then` is {then}, `else` is {orelse}"
            )
        return then if not isinstance(then, Unknown) else orelse

    def _operator_outside_contract(self, op: str, span: ast.Span) -> T.Type:
        circuit = _CIRCUIT_FOR.get(op, "a circuit")
        hint = f"call `{circuit}(…)`" if circuit != "a circuit" else "call a circuit that computes it"
        return self._error(
            span,
            f"`{op}` can only be used in contracts; in a function body, {hint}",
            "programs compute with learned circuits; operators specify them",
        )

    def _binop(self, e: ast.BinOp, expected: T.Type | None) -> T.Type:
        if not self.in_contract:
            for operand in (e.left, e.right):
                if not isinstance(operand, ast.IntLit):  # a bare literal would add a second message
                    self.check(operand, None)
            return self._operator_outside_contract(e.op, e.op_span)
        left, right = self.check(e.left, None), self.check(e.right, None)
        if e.op in LOGIC:
            self._want_bool(left, e.left.span, f"`{e.op}`")
            self._want_bool(right, e.right.span, f"`{e.op}`")
            return T.BOOL
        if e.op in EQUALITY:
            if not self._compatible(left, right):
                self._error(e.op_span, f"cannot compare {left} with {right}")
            return T.BOOL
        self._want_numeric(left, e.left.span, f"`{e.op}`")
        self._want_numeric(right, e.right.span, f"`{e.op}`")
        return T.BOOL if e.op in ORDERING else T.INTEGER

    def _unaryop(self, e: ast.UnaryOp, expected: T.Type | None) -> T.Type:
        if not self.in_contract:
            self.check(e.operand, None)
            return self._operator_outside_contract(e.op, e.span)
        found = self.check(e.operand, None)
        if e.op == "not":
            self._want_bool(found, e.operand.span, "`not`")
            return T.BOOL
        self._want_numeric(found, e.operand.span, "`-`")
        return T.INTEGER

    def _forall(self, e: ast.Forall, expected: T.Type | None) -> T.Type:
        if not self.in_contract:
            return self._error(e.span, "`forall` can only be used in contracts")
        self._want_numeric(self.check(e.lo, T.INTEGER), e.lo.span, "the range of `forall`")
        self._want_numeric(self.check(e.hi, T.INTEGER), e.hi.span, "the range of `forall`")
        saved = self.env.get(e.var)
        self.env[e.var] = _Binding(T.INTEGER, e.span, "bound", used=True)
        self._want_bool(self.check(e.body, T.BOOL), e.body.span, "the body of `forall`")
        if saved is None:
            del self.env[e.var]
        else:
            self.env[e.var] = saved
        return T.BOOL

    # --- combinators --------------------------------------------------------------------------

    def _arity(self, e: ast.Call, n: int, usage: str) -> bool:
        if len(e.args) == n:
            return True
        self._check_quietly(e.args)
        self._error(e.span, f"`{e.func}` takes {n} arguments: {usage}")
        return False

    def _function(self, arg: ast.Expr, arity: int, combinator: str) -> T.FnT | None:
        found = self.check(arg, None, allow_fn=True)
        if isinstance(found, Unknown):
            return None
        if not isinstance(found, T.FnT):
            self._error(arg.span, f"`{combinator}` needs a function here, but this is {found}")
            return None
        if len(found.params) != arity:
            self._error(
                arg.span,
                f"`{combinator}` needs a function of {arity} argument"
                f"{'s' if arity > 1 else ''}, but this takes {len(found.params)} ({found})",
            )
            return None
        return found

    def _collection(self, arg: ast.Expr, combinator: str) -> T.Type | None:
        """The element type of a Seq (a Grid's is Color), or None after reporting."""
        found = self.check(arg, None)
        if isinstance(found, T.SeqT):
            return found.elem
        if isinstance(found, T.GridT):
            return T.COLOR
        if not isinstance(found, Unknown):
            self._error(arg.span, f"`{combinator}` needs a Seq or a Grid, but this is {found}")
        return None

    def _takes(
        self, fn: T.FnT, position: int, elem: T.Type, span: ast.Span, combinator: str, over: T.Type
    ) -> bool:
        if fn.params[position] == elem:
            return True
        self._error(
            span,
            f"`{combinator}` over {over} needs a function taking {elem} "
            f"as argument {position + 1}, but this takes {fn.params[position]} ({fn})",
        )
        return False

    def _combinator_compose(self, e: ast.Call) -> T.Type:
        if not self._arity(e, 2, "compose(f, g) is x ↦ f(g(x))"):
            return UNKNOWN
        f, g = (self._function(arg, 1, "compose") for arg in e.args)
        if f is None or g is None:
            return UNKNOWN
        if g.result != f.params[0]:
            return self._error(
                e.span, f"compose(f, g) needs g's result ({g.result}) to be f's argument ({f.params[0]})"
            )
        return T.FnT(g.params, f.result)

    def _combinator_map(self, e: ast.Call) -> T.Type:
        if not self._arity(e, 2, "map(f, xs)"):
            return UNKNOWN
        f = self._function(e.args[0], 1, "map")
        elem = self._collection(e.args[1], "map")
        over = self.checked.types.get(e.args[1])
        if f is None or elem is None or not self._takes(f, 0, elem, e.args[0].span, "map", over):
            return UNKNOWN
        return self._rebuild(over, f.result, e)

    def _combinator_zip_with(self, e: ast.Call) -> T.Type:
        if not self._arity(e, 3, "zip_with(f, xs, ys)"):
            return UNKNOWN
        f = self._function(e.args[0], 2, "zip_with")
        xs, ys = self._collection(e.args[1], "zip_with"), self._collection(e.args[2], "zip_with")
        over_x, over_y = self.checked.types.get(e.args[1]), self.checked.types.get(e.args[2])
        if f is None or xs is None or ys is None:
            return UNKNOWN
        if _shape(over_x) != _shape(over_y):
            return self._error(
                e.args[2].span, f"zip_with needs two collections of one shape: {over_x} and {over_y}"
            )
        ok = self._takes(f, 0, xs, e.args[0].span, "zip_with", over_x)
        if not (ok and self._takes(f, 1, ys, e.args[0].span, "zip_with", over_y)):
            return UNKNOWN
        return self._rebuild(over_x, f.result, e)

    def _combinator_fold(self, e: ast.Call) -> T.Type:
        if not self._arity(e, 3, "fold(f, init, xs), with f(accumulator, element)"):
            return UNKNOWN
        f = self._function(e.args[0], 2, "fold")
        if f is None:
            self._check_quietly(e.args[1:])
            return UNKNOWN
        acc = f.params[0]
        if f.result != acc:
            self._error(
                e.args[0].span,
                f"`fold` needs f(accumulator, element) to return its accumulator "
                f"type {acc}, but this returns {f.result}",
            )
        found = self.check(e.args[1], acc)
        self._expect_type(acc, found, e.args[1].span, f"the initial value should be {acc}")
        elem = self._collection(e.args[2], "fold")
        if elem is None or not self._takes(f, 1, elem, e.args[0].span, "fold", self.checked.types[e.args[2]]):
            return UNKNOWN
        return acc

    def _rebuild(self, over: T.Type, elem: T.Type, e: ast.Call) -> T.Type:
        if isinstance(over, T.SeqT):
            return T.SeqT(elem, over.n)
        if elem != T.COLOR:
            return self._error(
                e.args[0].span,
                f"`{e.func}` over {over} needs a function returning Color, but this returns {elem}",
            )
        return over


def _is_literal(e: ast.Expr) -> bool:
    return isinstance(e, ast.IntLit) or (isinstance(e, ast.ListLit) and all(map(_is_literal, e.items)))


def _shape(t: T.Type | None) -> tuple:
    if isinstance(t, T.SeqT):
        return ("seq", t.n)
    if isinstance(t, T.GridT):
        return ("grid", t.h, t.w)
    return ("?",)


def _recursion(checked: Checked) -> list[Diagnostic]:
    """No recursion: every program must unroll to a finite dataflow graph."""
    graph = nx.DiGraph()
    owner: dict[object, Symbol] = {}
    for path in checked.program.modules:
        for symbol in checked.scopes.own[path].values():
            if symbol.kind == "fn":
                graph.add_node(id(symbol))
                owner[id(symbol)] = symbol
                for node in _walk(symbol.decl.body):
                    callee = checked.callees.get(node)
                    if callee is not None and callee.kind == "fn":
                        graph.add_edge(id(symbol), id(callee))
                        owner[id(callee)] = callee
    found = []
    for component in nx.strongly_connected_components(graph):
        sub = graph.subgraph(component)
        if len(component) == 1 and not sub.has_edge(*(2 * list(component))):
            continue
        cycle = [owner[a] for a, _ in nx.find_cycle(sub)]
        first = min(cycle, key=lambda s: (s.module, s.decl.span.line))
        start = cycle.index(first)
        names = [s.name for s in cycle[start:] + cycle[:start]] + [first.name]
        found.append(
            error(
                first.decl.name_span,
                "recursion is not allowed: " + " → ".join(f"`{n}`" for n in names),
                "every circ program must unroll to a finite dataflow graph",
            )
        )
    return found


def _walk(node: object):
    """Every AST node below `node` (expressions, lets, blocks)."""
    yield node
    for name in getattr(node, "__dataclass_fields__", {}):
        value = getattr(node, name)
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if hasattr(child, "__dataclass_fields__") and not isinstance(child, ast.Span):
                yield from _walk(child)
