"""The module system: `use stdlib.modular;` and `use mylib;` bring another file's declarations in.

`stdlib.X` resolves to the packaged `circ/stdlib/X.circ`; any other path `a.b` to `a/b.circ` beside
the importing file. A program is its root file plus every module it reaches, dependencies first.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from circ.lang import ast
from circ.lang.diagnostics import CircError, error
from circ.lang.limits import MAX_IMPORT_DEPTH, MAX_SOURCE_CHARS
from circ.lang.parser import parse


@dataclass(frozen=True)
class Program:
    root: str
    modules: dict[str, ast.Module]  # path → module, dependencies before their importers
    sources: dict[str, str]  # path → text, for rendering diagnostics
    imports: dict[str, tuple[tuple[ast.Use, str], ...]]  # path → (use, resolved path) per `use`


def stdlib_dir() -> Path:
    """The packaged stdlib (an editable install maps `circ.stdlib` to the repo's `stdlib/`)."""
    import circ.stdlib

    return Path(circ.stdlib.__file__).resolve().parent


def read_source(path: Path) -> str:
    """A file's text, or a whole-file diagnostic (missing, unreadable, not UTF-8)."""
    shown = str(path)
    whole_file = ast.Span(shown, 0, 0, 0, 0)
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO or /dev/zero would hang or never end
            raise CircError([error(whole_file, "not a regular file")])
        with path.open("rb") as f:
            data = f.read(4 * MAX_SOURCE_CHARS + 1)  # bounded, whatever the file grows to
        if len(data) > 4 * MAX_SOURCE_CHARS:
            raise CircError(
                [error(whole_file, f"too big: circ reads at most {MAX_SOURCE_CHARS:,} characters")]
            )
    except FileNotFoundError:
        raise CircError([error(ast.Span(shown, 0, 0, 0, 0), "no such file")]) from None
    except OSError as exc:
        raise CircError([error(ast.Span(shown, 0, 0, 0, 0), f"cannot read file: {exc.strerror}")]) from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")  # a UTF-8 byte-order mark is not text
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        span = ast.Span(shown, line, column, line, column + 1)
        raise CircError(
            [error(span, f"this file is not valid UTF-8 (byte 0x{data[exc.start]:02x})")]
        ) from None


def load(path: str | Path) -> Program:
    """Parse a file and everything it `use`s; raises `CircError` on the first unreadable module."""
    return load_text(read_source(Path(path)), str(path))


def load_text(text: str, path: str) -> Program:
    """As `load`, for source held in memory (the REPL, tests); relative `use`s resolve beside `path`."""
    modules: dict[str, ast.Module] = {}
    sources: dict[str, str] = {path: text}
    imports: dict[str, tuple[tuple[ast.Use, str], ...]] = {}
    keys = {Path(path).resolve(): path}  # a module is its file: one key per resolved path
    try:
        _visit(path, text, modules, sources, imports, keys, stack=[])
    except CircError as exc:
        exc.sources = {**sources, **exc.sources}
        raise
    return Program(path, modules, sources, imports)


def _resolve(use: ast.Use, importer: str) -> Path:
    if use.path[0] == "stdlib" and len(use.path) > 1:
        return stdlib_dir().joinpath(*use.path[1:-1], use.path[-1] + ".circ")
    return Path(importer).parent.joinpath(*use.path[:-1], use.path[-1] + ".circ")


def _missing(use: ast.Use, looked_for: str):
    name = ".".join(use.path)
    if use.path[0] == "stdlib":
        available = ", ".join(sorted(p.stem for p in stdlib_dir().glob("*.circ")))
        return error(use.span, f"cannot find module `{name}` in the stdlib", f"the stdlib has: {available}")
    return error(use.span, f"cannot find module `{name}` (looked for {looked_for})")


def _shown(path: Path) -> str:
    """Paths as the user would type them: relative to the working directory when below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path.resolve())


def _visit(path, text, modules, sources, imports, keys: dict[Path, str], stack: list[str]) -> None:
    module = parse(text, path)
    resolved: list[tuple[ast.Use, str]] = []
    for item in module.items:
        if not isinstance(item, ast.Use):
            continue
        target = _resolve(item, path)
        key = keys.setdefault(target.resolve(), _shown(target))
        if key in stack or key == path:
            cycle = " → ".join([*stack[stack.index(key) :], path, key] if key in stack else [path, key])
            raise CircError([error(item.span, f"import cycle: {cycle}")])
        if key not in modules:
            if len(stack) >= MAX_IMPORT_DEPTH:
                raise CircError([error(item.span, f"`use` chains deeper than {MAX_IMPORT_DEPTH} modules")])
            if not target.is_file():
                raise CircError([_missing(item, key)])
            sources[key] = read_source(target)
            _visit(key, sources[key], modules, sources, imports, keys, [*stack, path])
        resolved.append((item, key))
    imports[path] = tuple(resolved)
    modules[path] = module
