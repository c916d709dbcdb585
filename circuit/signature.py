"""The one way a circuit's type is written: `(A, B) -> C`.

Tasks, the catalog and declarations all compare signatures in this form, so a circuit trained as
`(Mod[97], Mod[97]) -> Mod[97]` is used only where it is declared at exactly those types.
"""

from __future__ import annotations

from collections.abc import Iterable

from circ.lang import types as T


def format_signature(arg_types: Iterable[T.Type], out_type: T.Type) -> str:
    return f"({', '.join(str(t) for t in arg_types)}) -> {out_type}"
