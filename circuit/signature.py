"""The one way a circuit's type is written: `(A, B) -> C`.

Tasks, the catalog and declarations all compare signatures in this form, so a circuit trained as
`(Mod[97], Mod[97]) -> Mod[97]` is used only where it is declared at exactly those types.
"""

from __future__ import annotations

from collections.abc import Iterable

from circ.lang import types as T
from circ.lang.errors import ConfigError

MAX_SIGNATURE = 10_000  # characters: a stored signature is read from files a user may not have written


class SignatureError(ConfigError):
    """A signature not in the one form circ writes."""

    def __init__(self, message: str) -> None:
        field, _, rest = message.partition(": ")
        super().__init__(field, rest)


def format_signature(arg_types: Iterable[T.Type], out_type: T.Type) -> str:
    return f"({', '.join(str(t) for t in arg_types)}) -> {out_type}"


def parse_signature(text: str) -> tuple[tuple[T.Type, ...], T.Type]:
    """`(A, B) -> C` back to types, in exactly the form `format_signature` writes (else a
    `SignatureError`), so a stored signature compares with a declaration by string equality."""
    from circ.lang.check import check
    from circ.lang.diagnostics import CircError
    from circ.lang.modules import load_text

    if not isinstance(text, str) or len(text) > MAX_SIGNATURE or not text.startswith("("):
        raise SignatureError(f"signature: {str(text)[:80]!r} is not of the form (A, B) -> C")
    depth, end = 0, -1
    for i, ch in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(ch, 0)
        if depth == 0:
            end = i
            break
    arrow = text[end + 1 :]
    if end < 0 or not arrow.startswith(" -> "):
        raise SignatureError(f"signature: {text[:80]!r} is not of the form (A, B) -> C")
    inside = text[1:end]
    source = f"circuit s({', '.join(f'a{i}: {t}' for i, t in enumerate(_split(inside)))}) -> {arrow[4:]};"
    try:
        checked = check(load_text(source.replace(";", ' learned "s";'), "<signature>"))
    except (CircError, RecursionError):
        raise SignatureError(f"signature: {text[:80]!r} names a type circ does not have") from None
    sig = checked.function("s").signature
    args, result = tuple(t for _, t in sig.params), sig.result
    if format_signature(args, result) != text:
        raise SignatureError(f"signature: write it as {format_signature(args, result)!r}, not {text!r}")
    return args, result


def _split(inside: str) -> list[str]:
    """Top-level comma-separated parts of an argument list."""
    if not inside.strip():
        return []
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(inside):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(inside[start:i].strip())
            start = i + 1
    parts.append(inside[start:].strip())
    return parts
