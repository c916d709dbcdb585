"""Typing the combinators `map`, `zip_with`, `fold` and `compose` (function bodies only): each takes a
function value and Seq/Grid collections, and the checker says which argument does not fit."""

from __future__ import annotations

from circ.lang import ast
from circ.lang import types as T
from circ.lang.check_expr import ExprChecker, is_literal
from circ.lang.scope import UNKNOWN, Unknown


class CombinatorRules(ExprChecker):
    def combinator(self, e: ast.Call) -> T.Type:
        match e.func:
            case "compose":
                return self.compose(e)
            case "map":
                return self.map(e)
            case "zip_with":
                return self.zip_with(e)
            case "fold":
                return self.fold(e)
        raise AssertionError(f"{e.func} is not a combinator")

    def arity(self, e: ast.Call, n: int, usage: str) -> bool:
        if len(e.args) == n:
            return True
        self.check_quietly(e.args)
        self.error(e.span, f"`{e.func}` takes {n} arguments: {usage}")
        return False

    def function(self, arg: ast.Expr, arity: int, combinator: str) -> T.FnT | None:
        found = self.check(arg, None, allow_fn=True)
        if isinstance(found, Unknown):
            return None
        if not isinstance(found, T.FnT):
            self.error(arg.span, f"`{combinator}` needs a function here, but this is {found}")
            return None
        if len(found.params) != arity:
            self.error(
                arg.span,
                f"`{combinator}` needs a function of {arity} argument"
                f"{'s' if arity > 1 else ''}, but this takes {len(found.params)} ({found})",
            )
            return None
        return found

    def collection(
        self, arg: ast.Expr, combinator: str, elem: T.Type | None = None, like: T.Type | None = None
    ) -> T.Type | None:
        """The element type of a Seq (a Grid's is Color), or None after reporting. A literal takes
        its type from the function's parameter `elem` (and the shape of the other collection, `like`)."""
        found = self.check(arg, _literal_type(arg, elem, like))
        if isinstance(found, T.SeqT):
            return found.elem
        if isinstance(found, T.GridT):
            return T.COLOR
        if not isinstance(found, Unknown):
            self.error(arg.span, f"`{combinator}` needs a Seq or a Grid, but this is {found}")
        return None

    def takes(
        self, fn: T.FnT, position: int, elem: T.Type, span: ast.Span, combinator: str, over: T.Type
    ) -> bool:
        if fn.params[position] == elem:
            return True
        self.error(
            span,
            f"`{combinator}` over {over} needs a function taking {elem} "
            f"as argument {position + 1}, but this takes {fn.params[position]} ({fn})",
        )
        return False

    def compose(self, e: ast.Call) -> T.Type:
        if not self.arity(e, 2, "compose(f, g) is x ↦ f(g(x))"):
            return UNKNOWN
        f, g = (self.function(arg, 1, "compose") for arg in e.args)
        if f is None or g is None:
            return UNKNOWN
        if g.result != f.params[0]:
            return self.error(
                e.span, f"compose(f, g) needs g's result ({g.result}) to be f's argument ({f.params[0]})"
            )
        return T.FnT(g.params, f.result)

    def map(self, e: ast.Call) -> T.Type:
        if not self.arity(e, 2, "map(f, xs)"):
            return UNKNOWN
        f = self.function(e.args[0], 1, "map")
        elem = self.collection(e.args[1], "map", f.params[0] if f else None)
        over = self.checked.types.get(e.args[1])
        if f is None or elem is None or not self.takes(f, 0, elem, e.args[0].span, "map", over):
            return UNKNOWN
        return self.rebuild(over, f.result, e)

    def zip_with(self, e: ast.Call) -> T.Type:
        if not self.arity(e, 3, "zip_with(f, xs, ys)"):
            return UNKNOWN
        f = self.function(e.args[0], 2, "zip_with")
        elems: list[T.Type | None] = list(f.params) if f else [None, None]
        found: dict[int, T.Type | None] = {}
        for i in sorted((1, 2), key=lambda i: is_literal(e.args[i])):  # a literal takes the other's shape
            like = self.checked.types.get(e.args[3 - i])
            found[i] = self.collection(e.args[i], "zip_with", elems[i - 1], like)
        xs, ys = found[1], found[2]
        over_x, over_y = self.checked.types.get(e.args[1]), self.checked.types.get(e.args[2])
        if f is None or xs is None or ys is None:
            return UNKNOWN
        if _shape(over_x) != _shape(over_y):
            return self.error(
                e.args[2].span, f"zip_with needs two collections of one shape: {over_x} and {over_y}"
            )
        ok = self.takes(f, 0, xs, e.args[0].span, "zip_with", over_x)
        if not (ok and self.takes(f, 1, ys, e.args[0].span, "zip_with", over_y)):
            return UNKNOWN
        return self.rebuild(over_x, f.result, e)

    def fold(self, e: ast.Call) -> T.Type:
        if not self.arity(e, 3, "fold(f, init, xs), with f(accumulator, element)"):
            return UNKNOWN
        f = self.function(e.args[0], 2, "fold")
        if f is None:
            self.check_quietly(e.args[1:])
            return UNKNOWN
        acc = f.params[0]
        if f.result != acc:
            self.error(
                e.args[0].span,
                f"`fold` needs f(accumulator, element) to return its accumulator "
                f"type {acc}, but this returns {f.result}",
            )
        found = self.check(e.args[1], acc)
        self.expect_type(acc, found, e.args[1].span, f"the initial value should be {acc}")
        elem = self.collection(e.args[2], "fold", f.params[1])
        if elem is None or not self.takes(f, 1, elem, e.args[0].span, "fold", self.checked.types[e.args[2]]):
            return UNKNOWN
        return acc

    def rebuild(self, over: T.Type, elem: T.Type, e: ast.Call) -> T.Type:
        if isinstance(over, T.SeqT):
            return T.SeqT(elem, over.n)
        if elem != T.COLOR:
            return self.error(
                e.args[0].span,
                f"`{e.func}` over {over} needs a function returning Color, but this returns {elem}",
            )
        return over


def _shape(t: T.Type | None) -> tuple:
    if isinstance(t, T.SeqT):
        return ("seq", t.n)
    if isinstance(t, T.GridT):
        return ("grid", t.h, t.w)
    return ("?",)


def _literal_type(arg: ast.Expr, elem: T.Type | None, like: T.Type | None) -> T.Type | None:
    """What a collection literal must be when a combinator's function fixes its elements: a Seq of
    `elem`, or a Grid when its items are rows of Colors (the other collection's shape when known)."""
    if elem is None or not (isinstance(arg, ast.ListLit) and arg.items and is_literal(arg)):
        return None
    if isinstance(like, T.SeqT):
        return T.SeqT(elem, like.n)
    if isinstance(like, T.GridT) and elem == T.COLOR:
        return like
    rows = [item for item in arg.items if isinstance(item, ast.ListLit)]
    if elem == T.COLOR and len(rows) == len(arg.items) and rows[0].items:
        return T.GridT(len(rows), len(rows[0].items))
    return T.SeqT(elem, len(arg.items))
