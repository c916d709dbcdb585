"""The stages import only earlier stages: lang → circuit → learn | compiler → runtime → verify → api →
cli (DESIGN §1). Built from every module's syntax tree, function-level and type-only imports included,
so a lazy import cannot hide an edge."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from support import ROOT

# rank of each top-level package of `circ`; learn and compiler share a rank but may not import each other
RANKS = {
    "circ.stdlib": 0,  # data: declarations and weights, no code to import
    "circ.lang": 0,
    "circ.circuit": 1,
    "circ.learn": 2,
    "circ.compiler": 2,
    "circ.runtime": 3,
    "circ.verify": 4,
    "circ": 5,  # the library API: circ/api.py, settings, stdlib_build
    "circ.synth": 5,  # synthesis: built on the API and verification, beside them
    "circ.experiment": 5,  # composed circuits vs a monolith: trains (learn), runs and verifies (api)
    "circ.cli": 6,
}


def stage(module: str) -> str:
    """The stage package a dotted module name belongs to (`python -m circ` is the CLI's)."""
    if module == "circ.__main__":
        return "circ.cli"
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 and ".".join(parts[:2]) in RANKS else "circ"


def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name, from pyproject's folder mapping."""
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    found = {}
    for package, folder in mapping.items():
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT / folder).with_suffix("").parts
            name = ".".join((package, *relative)).removesuffix(".__init__")
            if package == "circ" and relative[0] in {
                "lang",
                "circuit",
                "learn",
                "compiler",
                "runtime",
                "verify",
                "cli",
            }:
                continue
            found[name] = path
    return found


def imports(path: Path, name: str) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.rsplit(".", node.level)[0]
                out.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                out |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
    return {m for m in out if m == "circ" or m.startswith("circ.")}


def edges() -> list[tuple[str, str, str, str]]:
    """(module, its stage, imported module, its stage) for every import between stages."""
    found = []
    for name, path in modules().items():
        here = stage(name)
        for imported in imports(path, name):
            there = stage(imported)
            if there != here:
                found.append((name, here, imported, there))
    return found


def test_no_stage_imports_a_later_one() -> None:
    bad = [
        f"{name} ({here}) imports {imported} ({there})"
        for name, here, imported, there in edges()
        if RANKS[there] > RANKS[here] or {here, there} == {"circ.learn", "circ.compiler"}
    ]
    assert not bad, "imports against the stage order:\n" + "\n".join(sorted(bad))


def test_the_graph_is_real() -> None:
    """The check above sees the edges that must exist (so it cannot pass by seeing nothing)."""
    found = {(here, there) for _, here, _, there in edges()}
    assert {("circ.runtime", "circ.compiler"), ("circ.verify", "circ.runtime"), ("circ.cli", "circ")} <= found
    assert ("circ.learn", "circ.circuit") in found and ("circ.compiler", "circ.circuit") in found
