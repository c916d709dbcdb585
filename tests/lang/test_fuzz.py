"""`circ check` on any input ends in a clean diagnostic or success, never another exception.

Two sources of input: programs generated from the grammar itself (`hypothesis.extra.lark`), which
are syntactically valid and stress the checker, and byte-level mutations of the examples, which
stress the lexer, the parser's error reporting and the UTF-8 handling.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from circ.compiler.lower import lower
from circ.lang.check import check
from circ.lang.diagnostics import CircError, render
from circ.lang.modules import load
from circ.lang.parser import build_parser

from support import example_files

_EXAMPLES = {p.name: p.read_bytes() for p in example_files()}

# The generator joins tokens with no space, so `fn` and a name would merge into one name: pad
# names and numbers with spaces. Names are picked so that programs often refer to real things;
# comments end their line, or they would swallow the generated code after them.
_NAMES = st.sampled_from(
    [
        "x",
        "xs",
        "g",
        "main",
        "stdlib",
        "modular",
        "add",
        "map",
        "fold",
        "compose",
        "Mod",
        "Seq",
        "Color",
        "result",
    ]
).map(lambda name: f" {name} ")
_TERMINALS = {
    "NAME": _NAMES,
    "INT": st.integers(0, 120).map(lambda i: f" {i} "),
    "STRING": st.just(' "t.x" '),
    "COMMENT": st.just("# note\n"),
    "WS": st.just(" "),
}


def _front_end(path: Path) -> None:
    """Everything `circ check` and `circ compile` do; only `CircError` may escape."""
    try:
        checked = check(load(path))
        if checked.function("main") is not None:
            lower(checked, "main")
    except CircError as exc:
        for diagnostic in exc.diagnostics:
            text = render(diagnostic, exc.sources)
            assert f"{diagnostic.span.path}:" in text


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(from_lark(build_parser(), explicit=_TERMINALS))
def test_generated_programs_give_clean_diagnostics(tmp_path_factory, source: str) -> None:
    path = tmp_path_factory.mktemp("gen") / "gen.circ"
    path.write_text(source)
    _front_end(path)


@st.composite
def _mutations(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(sorted(_EXAMPLES.values()))))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "delete", "insert", "duplicate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif kind == "insert":
            data[at:at] = draw(
                st.sampled_from([b"(", b")", b"{", b"}", b";", b",", b"[", b"]", b"fn", b"\xff", b"\n"])
            )
        else:
            end = min(len(data), at + draw(st.integers(1, 30)))
            data[at:at] = data[at:end]
    return bytes(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutations())
def test_mutated_examples_give_clean_diagnostics(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("mut") / "mut.circ"
    path.write_bytes(data)
    _front_end(path)
