"""Program inputs and outputs: circ-syntax values ↔ `[rows, leaves]` tensors.

Users write values as in circ source (`3`, `true`, `[1, 2]`, `[[1, 2], [3, 4]]`, `(1, true)`) on the
command line, or as JSON objects per line (tuples as arrays). Every value is checked against its
parameter's type, and a bad one is reported with the parameter's name, never a traceback.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import torch

from circ.lang import layout
from circ.lang import types as T
from circ.lang.errors import UserError
from circ.lang.layout import format_value

DOMAIN_LIMIT = 10**7  # DESIGN §6.1: domains up to 10^7 points are enumerated whole


class InputError(UserError):
    """A bad program input; the message starts with where it came from (`x:` or `rows.jsonl:3: x:`)."""


Params = list[tuple[str, T.Type]]


def check_value(name: str, t: T.Type, value: object) -> object:
    """`value` as a member of `t`, or an `InputError` naming the parameter and what was wrong."""
    if isinstance(t, T.TupleT) and isinstance(value, list):
        value = tuple(value)  # JSON has no tuples
    if layout.member(t)(value):
        return _tuples_inside(t, value)
    if isinstance(t, T.BoolT):
        raise InputError(f"{name}: expected true or false, got {format_value(value)}")
    if isinstance(t, T.ScalarT):
        raise InputError(f"{name}: expected {t} ({t.low}..{t.high}), got {format_value(value)}")
    if isinstance(t, T.SeqT | T.GridT | T.TupleT) and isinstance(value, list | tuple):
        kinds, what = layout.items(t), "rows" if isinstance(t, T.GridT) else "items"
        if len(value) != len(kinds):
            raise InputError(f"{name}: expected {t} ({len(kinds)} {what}), got {len(value)} {what}")
        for i, (inner, item) in enumerate(zip(kinds, value, strict=True)):
            check_value(f"{name}[{i}]", inner, item)
    raise InputError(f"{name}: expected {t}, got {format_value(value)}")


def _tuples_inside(t: T.Type, value: object) -> object:
    if isinstance(t, T.TupleT):
        return tuple(_tuples_inside(it, v) for it, v in zip(t.items, value, strict=True))
    if isinstance(t, T.SeqT):
        return list(value) if isinstance(t.elem, T.ScalarT) else [_tuples_inside(t.elem, v) for v in value]
    return value


MAX_JSON_DEPTH = 64  # nesting of one input value (a Grid is 2 deep)
MAX_LINE_BYTES = 1 << 24  # one line of an --inputs file (16 MiB; the file itself is streamed)


def load_json(text: str) -> object:
    """JSON for input values: integers of at most 20 digits, no duplicate keys, nesting at most
    MAX_JSON_DEPTH; each refusal an InputError, never a RecursionError or a silently dropped key."""
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and _depth(text) > MAX_JSON_DEPTH:
        raise InputError(f"nested more than {MAX_JSON_DEPTH} levels deep")
    return (_CHECKED if LONG_NUMBER.search(text) else _PLAIN).decode(text)


# decoders made once (json.loads makes one a call: half of reading a short row); a number's digits
# are counted, by a hook called on each, only in a text that has a run of 21 or more
LONG_NUMBER = re.compile(r"\d{21}")


def _depth(text: str) -> int:
    deepest = depth = 0
    quoted = escaped = False
    for ch in text:
        if quoted:
            escaped, quoted = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            quoted = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _small_int(digits: str) -> int:
    if len(digits.lstrip("-")) > 20:
        raise InputError(f"a number with {len(digits):,} digits: inputs are 64-bit integers")
    return int(digits)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise InputError(f"{key}: given twice")
        out[key] = value
    return out


_PLAIN = json.JSONDecoder(object_pairs_hook=_unique_keys)
_CHECKED = json.JSONDecoder(parse_int=_small_int, object_pairs_hook=_unique_keys)


def parse_text(text: str) -> object:
    """A value written in circ syntax: JSON, with `(…)` for tuples."""
    try:
        return load_json(text.replace("(", "[").replace(")", "]"))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"cannot read {text[:80]!r} as a value (column {exc.colno}: {exc.msg.lower()})"
        ) from None


def rows_from_assignments(assignments: list[str], params: Params) -> list[dict[str, object]]:
    """`['x=3', 'y=[1, 2]']` → one row; every parameter must be given exactly once."""
    row: dict[str, object] = {}
    names = [n for n, _ in params]
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        name = name.strip()
        if not sep:
            raise InputError(
                f"{assignment!r}: write inputs as NAME=VALUE, e.g. {names[0] if names else 'x'}=3"
            )
        if name not in names:
            raise InputError(f"{name}: no such parameter (the program takes {', '.join(names) or 'none'})")
        if name in row:
            raise InputError(f"{name}: given twice")
        try:
            row[name] = parse_text(text)
        except InputError as exc:
            raise InputError(f"{name}: {exc}") from None
    return [_complete(row, params)]


def rows_from_jsonl(path: Path, params: Params) -> list[dict[str, object]]:
    return list(iter_jsonl(path, params))


def iter_jsonl(path: Path, params: Params) -> Iterator[dict[str, object]]:
    """The checked rows of a JSON-lines file, one line at a time (a file of any size in constant memory)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO or a device would never end
            raise InputError(f"{path}: not a regular file")
        lines = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    found = False
    with lines:
        for number, raw in enumerate(iter(lambda: lines.readline(MAX_LINE_BYTES + 1), b""), 1):
            if len(raw) > MAX_LINE_BYTES:
                raise InputError(f"{path}:{number}: a line longer than {MAX_LINE_BYTES >> 20} MiB")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"{path}:{number}: not UTF-8 (byte 0x{raw[exc.start]:02x})") from None
            if not line.strip():
                continue
            try:
                row = load_json(line)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"{path}:{number}: not JSON (column {exc.colno}: {exc.msg.lower()})"
                ) from None
            except InputError as exc:
                raise InputError(f"{path}:{number}: {exc}") from None
            if not isinstance(row, dict):
                raise InputError(f'{path}:{number}: each line must be an object such as {{"x": 3}}')
            try:
                unknown = sorted(set(row) - {n for n, _ in params})
                if unknown:
                    raise InputError(f"{unknown[0]}: no such parameter")
                found = True
                yield _complete(row, params)
            except InputError as exc:
                raise InputError(f"{path}:{number}: {exc}") from None
    if not found:
        raise InputError(f"{path}: no rows")


def _complete(row: dict[str, object], params: Params) -> dict[str, object]:
    missing = [n for n, _ in params if n not in row]
    if missing:
        raise InputError(f"{missing[0]}: missing (give every parameter: {', '.join(n for n, _ in params)})")
    return {name: check_value(name, t, row[name]) for name, t in params}


def to_batch(rows: list[dict[str, object]], params: Params) -> list[torch.Tensor]:
    """Rows of checked values → one `[rows, leaves]` tensor per parameter."""
    return [_column(t, [row[name] for row in rows]) for name, t in params]


def _column(t: T.Type, values: list[object]) -> torch.Tensor:
    """Checked values of `t` → `[rows, leaves]`: nested lists and tuples of one shape go to torch
    whole, in token order (row-major, as `layout.flatten`); a ragged tuple leaf by leaf."""
    try:
        whole = torch.tensor(values, dtype=torch.long)
        if values and whole.numel() == len(values) * T.width(t):
            return whole.view(len(values), -1)
    except (TypeError, ValueError):
        pass
    return torch.tensor([layout.flatten(t, v) for v in values], dtype=torch.long)


def domain_size(params: Params) -> int:
    return math.prod(T.domain_size(t) for _, t in params)


def domain_batch(params: Params, limit: int = DOMAIN_LIMIT) -> list[torch.Tensor]:
    """Every input of the program, in token order (vectorised: no per-row Python)."""
    return next(domain_chunks(params, max(1, domain_size(params)), limit))


def domain_rows(params: Params, start: int, stop: int) -> list[torch.Tensor]:
    """Inputs number `start` … `stop - 1` of the domain in token order: a chunk computed from its
    indices, so a whole-domain run never holds more of the domain than one chunk."""
    leaves = [leaf for _, t in params for leaf in T.parts(t)]
    index = torch.arange(start, stop, dtype=torch.long)
    columns = []
    for leaf in reversed(leaves):  # the last leaf varies fastest
        columns.append(index % leaf.size + leaf.low)
        index = index // leaf.size
    flat = torch.stack(columns[::-1], dim=1) if columns else torch.zeros(stop - start, 0, dtype=torch.long)
    sizes = [len(T.parts(t)) for _, t in params]
    return list(torch.split(flat, sizes, dim=1))


def domain_chunks(params: Params, rows: int, limit: int = DOMAIN_LIMIT) -> Iterator[list[torch.Tensor]]:
    """The whole domain, `rows` inputs at a time (checked against `limit` before the first)."""
    total = domain_size(params)
    if total > limit:
        digits = len(str(total)) - 1
        shown = f"{total:,}" if total < 10**12 else f"10^{digits}" if total == 10**digits else f"~10^{digits}"
        raise InputError(f"the input domain has {shown} values; --all enumerates at most {limit:.0e}")
    for start in range(0, total, rows):
        yield domain_rows(params, start, min(total, start + rows))


def jsonl_chunks(path: Path, params: Params, rows: int) -> Iterator[list[torch.Tensor]]:
    """A JSON-lines file, `rows` checked rows at a time, read as it goes."""
    lines = iter_jsonl(path, params)
    while chunk := list(itertools.islice(lines, rows)):
        yield to_batch(chunk, params)


def from_batch(t: T.Type, batch: torch.Tensor) -> list[object]:
    """`[rows, leaves]` → Python values, one per row (`layout.unflatten`'s values), a type's block of
    columns at a time: rebuilding each row leaf by leaf was 40 s of a 10⁶-row `--json` run (issue 19)."""
    if isinstance(t, T.ScalarT):
        return (batch[:, 0].bool() if isinstance(t, T.BoolT) else batch[:, 0]).tolist()
    if isinstance(t, T.SeqT) and isinstance(t.elem, T.ScalarT):
        return (batch.bool() if isinstance(t.elem, T.BoolT) else batch).tolist()
    if isinstance(t, T.GridT):
        return batch.reshape(-1, t.h, t.w).tolist()
    kinds = layout.items(t)  # a tuple, or a Seq of structures
    columns = batch.split([T.width(item) for item in kinds], dim=1)
    parts = [from_batch(item, c) for item, c in zip(kinds, columns, strict=True)]
    whole = zip(*parts, strict=True) if parts else [()] * batch.shape[0]
    return list(whole) if isinstance(t, T.TupleT) else [list(v) for v in whole]
