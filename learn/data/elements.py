"""Element-level tasks on `Color` and `Bool`: the small circuits `map`, `zip_with` and `fold` apply."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from circ.lang.types import BOOL, COLOR, Type
from circ.learn.data.task import Family, Task, check_int


def _fixed(name: str, doc: str, args: tuple[Type, ...], out: Type, fn: Callable[..., np.ndarray]) -> Family:
    def build() -> Task:
        return Task(name, (), args, out, fn, doc)

    return Family(name, "element", build, (), doc)


def _recolor_family() -> Family:
    doc = "a colour: a ↦ b, others unchanged"

    def build(a: int = 1, b: int = 2) -> Task:
        a, b = check_int("a", a, 0, 9), check_int("b", b, 0, 9)
        return Task(
            "color_recolor", (("a", a), ("b", b)), (COLOR,), COLOR, lambda x: np.where(x == a, b, x), doc
        )

    return Family("color_recolor", "element", build, (("a", 1), ("b", 2)), doc)


C2 = (COLOR, COLOR)
B2 = (BOOL, BOOL)

FAMILIES = (
    _fixed("color_succ", "x + 1 mod 10", (COLOR,), COLOR, lambda x: (x + 1) % 10),
    _fixed("color_pred", "x − 1 mod 10", (COLOR,), COLOR, lambda x: (x - 1) % 10),
    _recolor_family(),
    _fixed("color_add", "x + y mod 10", C2, COLOR, lambda x, y: (x + y) % 10),
    _fixed("color_max", "max(x, y)", C2, COLOR, np.maximum),
    _fixed("color_min", "min(x, y)", C2, COLOR, np.minimum),
    _fixed("color_is_zero", "x == 0 (the background)", (COLOR,), BOOL, lambda x: (x == 0).astype(np.int64)),
    _fixed("color_eq", "x == y", C2, BOOL, lambda x, y: (x == y).astype(np.int64)),
    _fixed("bool_not", "not x", (BOOL,), BOOL, lambda x: 1 - x),
    _fixed("bool_and", "x and y", B2, BOOL, lambda x, y: x & y),
    _fixed("bool_or", "x or y", B2, BOOL, lambda x, y: x | y),
    _fixed("bool_xor", "x xor y", B2, BOOL, lambda x, y: x ^ y),
)
