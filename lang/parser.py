"""Source text → AST, with parse errors that say in words what was expected."""

from __future__ import annotations

import functools
from pathlib import Path

from lark import (
    Lark,
    Token,
    Transformer,
    Tree,
    UnexpectedCharacters,
    UnexpectedInput,
    UnexpectedToken,
    v_args,
)
from lark.lexer import PatternStr

from circ.lang import ast
from circ.lang.diagnostics import CircError, error
from circ.lang.limits import INT64, MAX_NESTING, MAX_SOURCE_CHARS
from circ.lang.parser_cache import cached_parser

# Tokens that can begin an expression: when the parser would take any of them, say "an expression".
_EXPRESSION_STARTS = {"INT", "NAME", "LSQB", "LPAR", "TRUE", "FALSE", "IF", "FORALL", "NOT", "MINUS"}
# Tokens that can only continue an expression already read.
_OPERATORS = {"PLUS", "MINUS", "MULOP", "CMP", "AND", "OR", "DOT", "LSQB", "LPAR"}
_NAMED = {
    "NAME": "a name",
    "INT": "a number",
    "STRING": 'a string such as "mod97.add"',
    "CMP": "a comparison",
    "MULOP": "an operator",
    "$END": "end of file",
}


GRAMMAR = Path(__file__).with_name("circ.lark")


def build_parser() -> Lark:
    """The LALR parser for `circ.lark`, built from the grammar (keeps the grammar for tools that
    read it, such as Hypothesis' `from_lark`)."""
    # The basic lexer reserves keywords everywhere (`let fn = 1` is an error, not a variable `fn`).
    text = GRAMMAR.read_text()
    return Lark(text, parser="lalr", lexer="basic", propagate_positions=True, maybe_placeholders=True)


@functools.cache
def grammar() -> Lark:
    """The parser `parse` uses: built once per grammar, cached between processes (`parser_cache`);
    Lark objects are immutable once made."""
    return cached_parser(GRAMMAR.read_text(), build_parser)


def parse(text: str, path: str = "<input>") -> ast.Module:
    """Parse one `.circ` file; raises `CircError` with a single located diagnostic on bad syntax."""
    if len(text) > MAX_SOURCE_CHARS:
        message = f"this file has {len(text):,} characters; circ reads at most {MAX_SOURCE_CHARS:,}"
        raise CircError([error(ast.Span(path, 1, 1, 1, 2), message)])
    try:
        tree = grammar().parse(text)
    except UnexpectedInput as exc:
        raise CircError([_describe(exc, text, path)]) from None
    _within_limits(tree, path)  # before the (recursive) transformer and every later walk
    return _ToAst(path).transform(tree)


def _within_limits(tree: Tree, path: str) -> None:
    """Walk the parse tree without recursion: too deep a nesting, or an integer literal outside
    64 bits, is one located error."""
    todo: list[tuple[Tree | Token, int]] = [(tree, 0)]
    while todo:
        node, depth = todo.pop()
        if isinstance(node, Token):
            if node.type == "INT" and len(node) > 18 and not INT64[0] <= _int(node) <= INT64[1]:
                message = f"this integer ({len(node)} digits) does not fit in 64 bits"
                raise CircError([error(_token_span(path, node), message)])
            continue
        if depth > MAX_NESTING:
            meta = node.meta
            span = ast.Span(path, meta.line, meta.column, meta.line, meta.column + 1)
            raise CircError([error(span, f"nested more than {MAX_NESTING} levels deep here")])
        todo.extend((child, depth + 1) for child in node.children if child is not None)


def _int(digits: str) -> int:
    """Decimal digits as an int, even past Python's 4,300-digit conversion limit (only to compare)."""
    return 2**64 if len(digits) > 40 else int(digits)


def _describe(exc: UnexpectedInput, text: str, path: str):
    line, column = _position(exc, text)
    span = ast.Span(path, line, column, line, column + 1)
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else "?"
        return error(span, f"unexpected character {char!r}")
    token = exc.token if isinstance(exc, UnexpectedToken) else None
    expected = _acceptable(exc)
    found = _found(token)
    if token is not None and token.type != "$END":
        span = ast.Span(path, line, column, line, column + max(1, len(str(token))))
    return error(span, f"expected {_expected_words(expected)}, found {found}")


def _acceptable(exc: UnexpectedInput) -> set[str]:
    """What the parser would take here. LALR's table after default reductions over-approximates;
    replaying the parser state on each terminal gives the true set."""
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is not None:
        try:
            return set(interactive.accepts())
        except Exception:  # the replay is only a refinement; fall back to the table
            pass
    return set(getattr(exc, "expected", None) or ())


def _position(exc: UnexpectedInput, text: str) -> tuple[int, int]:
    token = getattr(exc, "token", None)
    if token is not None and token.type == "$END":
        lines = text.splitlines() or [""]
        return len(lines), len(lines[-1]) + 1
    line, column = getattr(exc, "line", -1), getattr(exc, "column", -1)
    if isinstance(line, int) and line > 0 and isinstance(column, int) and column > 0:
        return line, column
    lines = text.splitlines() or [""]  # end of file: point just past the last character
    return len(lines), len(lines[-1]) + 1


def _found(token: Token | None) -> str:
    if token is None or token.type == "$END":
        return "end of file"
    if token.type == "NAME":
        return f"`{token}`"
    if token.type in ("INT", "STRING"):
        return str(token)
    if str(token).isalpha():
        return f"keyword '{token}'"
    return f"'{token}'"


def _terminal_words(name: str) -> str:
    if name in _NAMED:
        return _NAMED[name]
    pattern = grammar().get_terminal(name).pattern
    return f"'{pattern.value}'" if isinstance(pattern, PatternStr) else name.lower()


def _expected_words(expected: set[str]) -> str:
    words: list[str] = []
    rest = set(expected)
    if {"INT", "NAME", "LSQB"} <= rest:
        words.append("an expression")
        rest -= _EXPRESSION_STARTS
    elif len(rest & _OPERATORS) >= 3:
        rest -= _OPERATORS
        words.append("an operator")
    elif {"NAME", "LPAR"} <= rest and "INT" not in rest:
        words.append("a type" if "RPAR" not in rest else "a name")
        rest -= {"NAME", "LPAR"}
    words = sorted(_terminal_words(t) for t in rest) + words
    if not words:
        return "something else"
    if len(words) <= 2:
        return " or ".join(words)
    return "one of " + ", ".join(words[:-1]) + " or " + words[-1]


def _span(path: str, meta) -> ast.Span:
    return ast.Span(path, meta.line, meta.column, meta.end_line, meta.end_column)


def _token_span(path: str, token: Token) -> ast.Span:
    return ast.Span(path, token.line, token.column, token.end_line, token.end_column)


def _present(children: list) -> tuple:
    """Optional list items come back as `None` placeholders; drop them."""
    return tuple(c for c in children if c is not None)


@v_args(meta=True)
class _ToAst(Transformer):
    """Builds AST nodes straight from the parse tree, one method per grammar rule."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def _s(self, meta) -> ast.Span:
        return _span(self.path, meta)

    # items
    def start(self, meta, items):
        span = self._s(meta) if not meta.empty else ast.Span(self.path, 1, 1, 1, 1)
        return ast.Module(self.path, tuple(items), span)

    def use_decl(self, meta, names):
        return ast.Use(tuple(str(n) for n in names), self._s(meta))

    def type_decl(self, meta, children):
        name, type_ = children
        return ast.TypeAlias(str(name), type_, self._s(meta))

    def fn_decl(self, meta, children):
        name, params, ret, *contracts, body = children
        return ast.FnDecl(
            str(name), params, ret, tuple(contracts), body, self._s(meta), _token_span(self.path, name)
        )

    def circuit_decl(self, meta, children):
        name, params, ret, *contracts, learned = children
        return ast.CircuitDecl(
            str(name),
            params,
            ret,
            tuple(contracts),
            str(learned)[1:-1],
            self._s(meta),
            _token_span(self.path, name),
        )

    def synth_decl(self, meta, children):
        name, params, ret, *clauses = children
        contracts = tuple(c for c in clauses if isinstance(c, ast.Contract))
        examples = tuple(e for c in clauses if not isinstance(c, ast.Contract) for e in c)
        span = _token_span(self.path, name)
        return ast.SynthDecl(str(name), params, ret, contracts, examples, self._s(meta), span)

    def examples(self, meta, children):
        return tuple(children)

    def example(self, meta, children):
        inputs, output = children
        return ast.Example(inputs, output, self._s(meta))

    def params(self, meta, children):
        return _present(children)

    def param(self, meta, children):
        name, type_ = children
        return ast.Param(str(name), type_, self._s(meta))

    def contract(self, meta, children):
        keyword, expr = children
        return ast.Contract(str(keyword), expr, self._s(meta))

    def block(self, meta, children):
        *lets, result = children
        return ast.Block(tuple(lets), result, self._s(meta))

    def let(self, meta, children):
        name, type_, value = children
        return ast.Let(str(name), type_, value, self._s(meta))

    # types
    def named_type(self, meta, children):
        return ast.NamedType(str(children[0]), (), self._s(meta))

    def applied_type(self, meta, children):
        name, *args = children
        return ast.NamedType(str(name), tuple(args), self._s(meta))

    def tuple_type(self, meta, children):
        return ast.TupleType(tuple(children), self._s(meta))

    def int_arg(self, meta, children):
        return int(children[0])

    def neg_int_arg(self, meta, children):
        return -int(children[1])

    # expressions
    def if_expr(self, meta, children):
        cond, then, orelse = children
        return ast.If(cond, then, orelse, self._s(meta))

    def forall(self, meta, children):
        var, lo, hi, body = children
        return ast.Forall(str(var), lo, hi, body, self._s(meta))

    def binop(self, meta, children):
        left, op, right = children
        return ast.BinOp(str(op), left, right, self._s(meta), _token_span(self.path, op))

    def not_op(self, meta, children):
        return ast.UnaryOp("not", children[0], self._s(meta))

    def neg(self, meta, children):
        operand = children[1]
        if isinstance(operand, ast.IntLit):  # `-3` is a literal, usable outside contracts
            return ast.IntLit(-operand.value, self._s(meta))
        return ast.UnaryOp("-", operand, self._s(meta))

    def proj(self, meta, children):
        expr, index = children
        return ast.Proj(expr, int(index), self._s(meta))

    def index(self, meta, children):
        expr, *indices = children
        return ast.Index(expr, tuple(indices), self._s(meta))

    def int_lit(self, meta, children):
        return ast.IntLit(int(children[0]), self._s(meta))

    def true(self, meta, children):
        return ast.BoolLit(True, self._s(meta))

    def false(self, meta, children):
        return ast.BoolLit(False, self._s(meta))

    def var(self, meta, children):
        return ast.Var(str(children[0]), self._s(meta))

    def call(self, meta, children):
        name, *args = children
        return ast.Call(str(name), _present(args), self._s(meta), _token_span(self.path, name))

    def tuple_lit(self, meta, children):
        return ast.TupleLit(tuple(children), self._s(meta))

    def list_lit(self, meta, children):
        return ast.ListLit(_present(children), self._s(meta))
