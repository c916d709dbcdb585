"""Each explicit limit ends in one clean located error through the CLI — never a traceback, a hang or
unbounded memory (issue 13's cases, one per kind of input)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from circ.cli import app
from circ.lang.limits import MAX_FORALL, MAX_NESTING

runner = CliRunner()

Make = Callable[[Path], list[str]]  # writes its files under tmp_path, returns the CLI arguments


def program(text: str, command: str = "check") -> Make:
    def make(tmp: Path) -> list[str]:
        (tmp / "p.circ").write_text(text)
        return [command, str(tmp / "p.circ")]

    return make


def nested_calls(depth: int) -> str:
    return (
        "use stdlib.modular;\nfn main(a: Mod[97]) -> Mod[97] { " + "inc(" * depth + "a" + ")" * depth + " }\n"
    )


def alias_chain(n: int) -> str:
    lines = [f"type A{i} = A{i + 1};" for i in range(n)] + [f"type A{n} = Bool;"]
    return "\n".join(lines) + "\nfn main(a: A0) -> Bool { a }\n"


def inline_chain(n: int) -> str:
    lines = ["use stdlib.modular;"] + [f"fn f{i}(a: Mod[97]) -> Mod[97] {{ f{i + 1}(a) }}" for i in range(n)]
    return "\n".join(
        [*lines, f"fn f{n}(a: Mod[97]) -> Mod[97] {{ inc(a) }}", "fn main(a: Mod[97]) -> Mod[97] { f0(a) }"]
    )


def use_chain(tmp: Path) -> list[str]:
    for i in range(130):
        (tmp / f"m{i}.circ").write_text(f"use m{i + 1};\n")
    (tmp / "m130.circ").write_text("fn f(a: Bool) -> Bool { a }\n")
    (tmp / "p.circ").write_text("use m0;\nfn main(a: Bool) -> Bool { a }\n")
    return ["check", str(tmp / "p.circ")]


def symlink_out(tmp: Path) -> list[str]:
    (tmp / "outside").mkdir()
    (tmp / "outside" / "x.circ").write_text("fn f(a: Bool) -> Bool { a }\n")
    (tmp / "proj" / "lib").mkdir(parents=True)
    (tmp / "proj" / "lib" / "x.circ").symlink_to(tmp / "outside" / "x.circ")
    (tmp / "proj" / "p.circ").write_text("use lib.x;\nfn main(a: Bool) -> Bool { f(a) }\n")
    return ["check", str(tmp / "proj" / "p.circ")]


def fifo(tmp: Path) -> list[str]:
    os.mkfifo(tmp / "p.circ")
    return ["check", str(tmp / "p.circ")]


def too_big(tmp: Path) -> list[str]:
    (tmp / "p.circ").write_text("# " + "x" * 600_000 + "\nfn main(a: Bool) -> Bool { a }\n")
    return ["check", str(tmp / "p.circ")]


def jsonl(line: bytes) -> Make:
    def make(tmp: Path) -> list[str]:
        (tmp / "p.circ").write_text(
            "use stdlib.modular;\nfn main(a: Mod[97], xs: Seq[Color, 2]) -> Mod[97] { inc(a) }\n"
        )
        (tmp / "rows.jsonl").write_bytes(line + b"\n")
        return ["run", str(tmp / "p.circ"), "--inputs", str(tmp / "rows.jsonl")]

    return make


CASES: dict[str, tuple[Make, str]] = {
    "calls nested too deep": (program(nested_calls(400)), f"nested more than {MAX_NESTING} levels deep"),
    "contract nested too deep": (
        program("fn main(a: Bool) -> Bool ensures " + "not (" * 400 + "result" + ")" * 400 + " { a }"),
        "levels deep",
    ),
    "type nested too deep": (
        program("fn main(a: " + "Seq[" * 300 + "Bool" + ", 1]" * 300 + ") -> Bool { true }"),
        "levels deep",
    ),
    "alias chain": (program(alias_chain(300)), "type aliases chained more than"),
    "inlined calls too deep": (
        program(inline_chain(300), "compile"),
        "functions inlined more than",
    ),
    "use chain": (use_chain, "`use` chains deeper than"),
    "use through a symlink out of the folder": (symlink_out, "leads outside the program's folder"),
    "integer literal of 5,000 digits": (
        program("fn main(a: Int[0, " + "9" * 5000 + "]) -> Bool { true }"),
        "does not fit in 64 bits",
    ),
    "Int range beyond 64 bits": (
        program("fn main(a: Int[-9223372036854775809, 0]) -> Bool { true }"),
        "does not fit in 64 bits",
    ),
    "Seq of 10^9": (
        program("fn main(xs: Seq[Color, 1000000000]) -> Color { xs[0] }"),
        "circ allows at most 65,536",
    ),
    "Grid of 10^6 cells": (
        program("use stdlib.colors;\nfn main(g: Grid[1000, 1000]) -> Color { fold(color_max, 0, g) }"),
        "scalars",
    ),
    "forall over 10^9": (
        program("fn main(a: Bool) -> Bool ensures forall i in 0..1000000000: result == a { a }"),
        f"circ unrolls at most {MAX_FORALL:,}",
    ),
    "unrolled graph too big": (
        program(
            "use stdlib.colors;\nfn main(g: Grid[256, 256]) -> Color {\n"
            "  color_max(fold(color_max, 0, g), fold(color_min, 0, g))\n}",
            "compile",
        ),
        "graph nodes",
    ),
    "source over the size limit": (too_big, "circ reads at most"),
    "source is a FIFO": (fifo, "not a regular file"),
    "source is /dev/zero": (lambda tmp: ["check", "/dev/zero"], "not a regular file"),
    "input nested 30,000 deep": (
        jsonl(b'{"a": 1, "xs": ' + b"[" * 30000 + b"]" * 30000 + b"}"),
        "levels deep",
    ),
    "input number of 5,000 digits": (jsonl(b'{"a": 1' + b"0" * 5000 + b', "xs": [1, 2]}'), "digits"),
    "input with a duplicate key": (jsonl(b'{"a": 1, "a": 2, "xs": [1, 2]}'), "a: given twice"),
    "input not UTF-8": (jsonl(b'{"a": 1, "xs": "\xff"}'), "not UTF-8"),
    "inputs file is a FIFO": (
        lambda tmp: [*program("fn main(a: Bool) -> Bool { a }", "run")(tmp), "--inputs", str(_fifo(tmp))],
        "not a regular file",
    ),
}
CASES["--all over 10^360 inputs"] = (
    lambda tmp: [*program("fn main(g: Seq[Mod[1000000], 60]) -> Mod[1000000] { g[0] }", "run")(tmp), "--all"],
    "has 10^360 values",
)


def _fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "rows.jsonl")
    return tmp / "rows.jsonl"


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_limit_is_one_clean_error(case: str, tmp_path: Path) -> None:
    make, expected = CASES[case]
    args = make(tmp_path)
    env = {"CIRC_HOME": str(tmp_path / "home"), "CIRC_DB": f"sqlite:///{tmp_path / 'u.db'}", "COLUMNS": "100"}
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and expected in result.stderr, result.stderr[:2000]
    assert len(result.stderr) < 5_000  # a diagnostic shows a window of the line, not the whole line


def test_a_manifest_nested_100k_deep_is_one_catalog_error(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "manifest.json").write_text('{"circuits": ' + "[" * 100_000 + "]" * 100_000 + "}")
    env = {"CIRC_HOME": str(tmp_path / "home"), "CIRC_DB": f"sqlite:///{tmp_path / 'u.db'}"}
    result = runner.invoke(app, ["catalog", "import", str(tmp_path / "in")], env=env)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cannot read the catalog manifest" in result.stderr


def test_a_blob_whose_metadata_is_a_list_is_refused() -> None:
    import json

    from circ.circuit.weights import WeightsError, read_header

    header = json.dumps(
        {"__metadata__": ["format"], "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    )
    data = len(header).to_bytes(8, "little") + header.encode() + b"\0\0\0\0"
    with pytest.raises(WeightsError, match="__metadata__ is not a map of strings"):
        read_header(data)
