"""Lines of code per folder (tinygrad's sz.py, for circ): code lines exclude blanks, comments and
docstrings. CI runs it with `--check` and fails when the core (the language, the circuit ABI, the
compiler and the runtime) grows past `CORE_BUDGET`: a feature must be worth the lines it adds.

    python3 .ci/lines.py            # the table
    python3 .ci/lines.py --check    # the table, exit 1 over budget
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = (
    "lang",
    "circuit",
    "compiler",
    "runtime",
    "learn",
    "verify",
    "circ",
    "synth",
    "cli",
    "benchmarks",
    "tests",
)
CORE = ("lang", "circuit", "compiler", "runtime")
CORE_BUDGET = 3800


def code_lines(path: Path) -> int:
    """Lines holding code: not blank, not only a comment, not inside a docstring."""
    text = path.read_text(encoding="utf-8")
    docstrings = set()
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docstrings.update(range(value.lineno, value.end_lineno + 1))
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type not in (
            tokenize.COMMENT,
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
        ):
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstrings)


def main(argv: list[str]) -> int:
    totals = {}
    print(f"{'folder':<12}{'files':>7}{'lines':>8}")
    for folder in FOLDERS:
        files = sorted((ROOT / folder).rglob("*.py"))
        totals[folder] = sum(code_lines(f) for f in files)
        print(f"{folder:<12}{len(files):>7}{totals[folder]:>8}")
    core = sum(totals[f] for f in CORE)
    print(f"core ({' + '.join(CORE)}): {core} code lines of {CORE_BUDGET} budgeted")
    if "--check" in argv and core > CORE_BUDGET:
        print(f"error: the core is {core - CORE_BUDGET} lines over budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
