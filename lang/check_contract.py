"""The contract language: `requires` / `ensures` clauses are specifications, written with operators.

Every numeric type is just an integer here (`Integer`, Z3's Int), so types compare loosely; literals
need no type; operators, `forall` and dynamic indices are allowed; calls are not (a contract cannot
run a circuit).
"""

from __future__ import annotations

from circ.lang import ast
from circ.lang import types as T
from circ.lang.check_expr import Binding, ExprChecker
from circ.lang.limits import MAX_FORALL
from circ.lang.scope import Symbol, Unknown

ORDERING = {"<", "<=", ">", ">="}
EQUALITY = {"==", "!="}
LOGIC = {"and", "or"}


def loosely_equal(a: T.Type, b: T.Type) -> bool:
    """Type equality in contracts, where every numeric type is just an integer."""
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return True
    if T.is_numeric(a) and T.is_numeric(b):
        return True
    if isinstance(a, T.SeqT) and isinstance(b, T.SeqT):
        return a.n == b.n and loosely_equal(a.elem, b.elem)
    if isinstance(a, T.TupleT) and isinstance(b, T.TupleT):
        return len(a.items) == len(b.items) and all(map(loosely_equal, a.items, b.items))
    return a == b


class ContractChecker(ExprChecker):
    branches_take_expected = False

    def clause(self, contract: ast.Contract, result: T.Type) -> None:
        """Check one clause; `result` is in scope in an `ensures`. Names used here count as used."""
        saved = dict(self.env)
        if contract.kind == "ensures":
            self.env["result"] = Binding(result, contract.span, "result", used=True)
        found = self.check(contract.expr, None)
        article = "an" if contract.kind == "ensures" else "a"
        self.want_bool(found, contract.expr.span, f"{article} `{contract.kind}` clause")
        for name, binding in saved.items():
            binding.used = binding.used or self.env[name].used
        self.state.env = saved

    def compatible(self, expected: T.Type, found: T.Type) -> bool:
        return loosely_equal(expected, found)

    def untyped_literal(self, e: ast.IntLit, expected: T.Type | None) -> T.Type:
        return T.INTEGER

    def global_value(self, e: ast.Var, symbol: Symbol) -> T.Type:
        return self.error(e.span, f"`{e.name}` is a {symbol.kind}, which contracts cannot call, not a value")

    def call(self, e: ast.Call, expected: T.Type | None) -> T.Type:
        self.check_quietly(e.args)
        return self.error(
            e.func_span, f"contracts cannot call `{e.func}`: they are specifications, written with operators"
        )

    def dynamic_index(self, index: ast.Expr) -> None:
        self.want_numeric(self.check(index, T.INTEGER), index.span, "an index")

    def binop(self, e: ast.BinOp) -> T.Type:
        left, right = self.check(e.left, None), self.check(e.right, None)
        if e.op in LOGIC:
            self.want_bool(left, e.left.span, f"`{e.op}`")
            self.want_bool(right, e.right.span, f"`{e.op}`")
            return T.BOOL
        if e.op in EQUALITY:
            if not self.compatible(left, right):
                self.error(e.op_span, f"cannot compare {left} with {right}")
            return T.BOOL
        self.want_numeric(left, e.left.span, f"`{e.op}`")
        self.want_numeric(right, e.right.span, f"`{e.op}`")
        return T.BOOL if e.op in ORDERING else T.INTEGER

    def unaryop(self, e: ast.UnaryOp) -> T.Type:
        found = self.check(e.operand, None)
        if e.op == "not":
            self.want_bool(found, e.operand.span, "`not`")
            return T.BOOL
        self.want_numeric(found, e.operand.span, "`-`")
        return T.INTEGER

    def forall(self, e: ast.Forall) -> T.Type:
        self.want_numeric(self.check(e.lo, T.INTEGER), e.lo.span, "the range of `forall`")
        self.want_numeric(self.check(e.hi, T.INTEGER), e.hi.span, "the range of `forall`")
        lo, hi = _constant(e.lo), _constant(e.hi)
        if lo is not None and hi is not None and hi - lo > MAX_FORALL:
            self.error(e.span, f"`forall` over {hi - lo:,} values; circ unrolls at most {MAX_FORALL:,}")
        saved = self.env.get(e.var)
        self.env[e.var] = Binding(T.INTEGER, e.span, "bound", used=True)
        self.want_bool(self.check(e.body, T.BOOL), e.body.span, "the body of `forall`")
        if saved is None:
            del self.env[e.var]
        else:
            self.env[e.var] = saved
        return T.BOOL


def _constant(e: ast.Expr) -> int | None:
    """The value of an integer literal, or of its negation; None for anything else."""
    if isinstance(e, ast.IntLit):
        return e.value
    if isinstance(e, ast.UnaryOp) and e.op == "-" and isinstance(e.operand, ast.IntLit):
        return -e.operand.value
    return None
