"""Syntax highlighting of `.circ` source: a Pygments lexer, registered under the `pygments.lexers`
entry point (so `pygmentize -l circ`, Sphinx and the REPL find it by name or by the `.circ` suffix).

The word lists are the grammar's (`lang/circ.lark`); a test keeps them, and the TextMate grammar in
`editors/`, in step with it.
"""

from __future__ import annotations

from typing import ClassVar

from pygments.lexer import RegexLexer, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text

KEYWORDS = (
    "use",
    "type",
    "fn",
    "circuit",
    "let",
    "if",
    "then",
    "else",
    "forall",
    "in",
    "learned",
    "synth",
    "examples",
)
CONTRACTS = ("requires", "ensures")
OPERATOR_WORDS = ("and", "or", "not")
CONSTANTS = ("true", "false")
TYPES = ("Bool", "Color", "Mod", "Int", "Seq", "Grid")
COMBINATORS = ("map", "zip_with", "fold", "compose")


class CircLexer(RegexLexer):
    name = "circ"
    aliases: ClassVar[list[str]] = ["circ"]
    filenames: ClassVar[list[str]] = ["*.circ"]
    mimetypes: ClassVar[list[str]] = ["text/x-circ"]

    tokens: ClassVar[dict] = {
        "root": [
            (r"\s+", Text),
            (r"#[^\n]*", Comment.Single),
            (r'"[^"\n]*"', String),
            (words(CONTRACTS, suffix=r"\b"), Keyword.Declaration),
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            (words(OPERATOR_WORDS, suffix=r"\b"), Operator.Word),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (words(TYPES, suffix=r"\b"), Keyword.Type),
            (words(COMBINATORS, suffix=r"\b"), Name.Builtin),
            (r"\bresult\b", Name.Builtin.Pseudo),
            (r"[A-Z]\w*", Name.Class),  # type aliases are capitalised by convention (`type Z = Mod[97]`)
            (r"[A-Za-z_]\w*(?=\s*\()", Name.Function),
            (r"[A-Za-z_]\w*", Name),
            (r"[0-9]+", Number.Integer),
            (r"==|!=|<=|>=|->|\.\.|[-+*/%<>=]", Operator),
            (r"[()\[\]{},;:.]", Punctuation),
        ]
    }
