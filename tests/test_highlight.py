"""Highlighting: the Pygments lexer (found by its entry point), the TextMate grammar for editors, and
coloured diagnostics — all in step with the grammar's keywords."""

from __future__ import annotations

import io
import json
import re

from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error, Keyword, Name

from circ.cli.paint import colour_enabled, painted
from circ.highlight import COMBINATORS, CONSTANTS, CONTRACTS, KEYWORDS, OPERATOR_WORDS, TYPES, CircLexer
from circ.lang.ast import Span
from circ.lang.diagnostics import error
from circ.lang.scope import COMBINATORS as CHECKER_COMBINATORS
from circ.lang.scope import TYPE_NAMES

from support import EXAMPLES, ROOT


def grammar_words() -> set[str]:
    """Every quoted word of lang/circ.lark: the language's keywords."""
    return set(re.findall(r'"([a-z_]+)"', (ROOT / "lang" / "circ.lark").read_text()))


def test_the_lexer_knows_every_keyword_of_the_grammar() -> None:
    assert grammar_words() == set(KEYWORDS + CONTRACTS + OPERATOR_WORDS + CONSTANTS)
    assert set(TYPES) == set(TYPE_NAMES) and set(COMBINATORS) == set(CHECKER_COMBINATORS)


def test_the_lexer_is_registered_by_name_and_by_suffix() -> None:
    assert isinstance(get_lexer_by_name("circ"), CircLexer)
    assert isinstance(get_lexer_for_filename("program.circ"), CircLexer)


def test_every_example_lexes_without_error_tokens() -> None:
    for path in sorted(EXAMPLES.glob("*.circ")):
        tokens = list(CircLexer().get_tokens(path.read_text()))
        assert not [t for t in tokens if t[0] is Error], path.name


def test_tokens_are_what_a_reader_expects() -> None:
    tokens = {
        v: t for t, v in CircLexer().get_tokens("fn f(x: Mod[97]) -> Z ensures result == 1 { map(g, x) }")
    }
    assert tokens["fn"] in Keyword and tokens["ensures"] in Keyword and tokens["Mod"] is Keyword.Type
    assert tokens["map"] is Name.Builtin and tokens["result"] is Name.Builtin.Pseudo
    assert tokens["f"] is Name.Function and tokens["Z"] is Name.Class


def test_the_textmate_grammar_is_valid_and_covers_the_keywords() -> None:
    grammar = json.loads((ROOT / "editors" / "circ.tmLanguage.json").read_text())
    assert grammar["scopeName"] == "source.circ" and grammar["fileTypes"] == ["circ"]
    regexes = []

    def collect(node: object) -> None:
        if isinstance(node, dict):
            regexes.extend(v for k, v in node.items() if k == "match")
            for v in node.values():
                collect(v)
        elif isinstance(node, list):
            for v in node:
                collect(v)

    collect(grammar)
    compiled = [re.compile(r) for r in regexes]  # the grammar keeps to what Python's re also reads
    for word in grammar_words() | set(TYPES) | set(COMBINATORS):
        assert any(r.fullmatch(word) or r.search(f" {word} ") for r in compiled), word
    assert {p["include"][1:] for p in grammar["patterns"]} <= set(grammar["repository"])


def test_diagnostics_are_coloured_only_on_a_terminal() -> None:
    source = "fn main() -> Mod[97] { add(x, 120) }\n"
    d = error(Span("p.circ", 1, 31, 1, 34), "120 is out of range for Mod[97] (0..96)", "a note")
    plain = painted(d, {"p.circ": source}, colour=False)
    assert "\x1b[" not in plain and plain.splitlines()[0].startswith("p.circ:1:31: error: 120")
    coloured = painted(d, {"p.circ": source}, colour=True)
    assert "\x1b[1;31merror" in coloured and "\x1b[" in coloured.splitlines()[1]  # source highlighted
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain  # the same text, only coloured

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert colour_enabled(Tty(), {}) and not colour_enabled(io.StringIO(), {})
    assert not colour_enabled(Tty(), {"NO_COLOR": "1"}) and colour_enabled(
        io.StringIO(), {"FORCE_COLOR": "1"}
    )
