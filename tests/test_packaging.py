"""Packaging: everything installs under the `circ` namespace, and every code folder is a package."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from support import ROOT


def _declared() -> dict[str, str]:
    """Top-level mapping (package → folder), extended with the listed deeper packages."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = dict(config["package-dir"])
    for package in config["packages"]:
        if package not in mapping:
            parent, _, leaf = package.rpartition(".")
            assert parent in mapping, f"{package} is listed but its parent {parent} is not"
            mapping[package] = f"{mapping[parent]}/{leaf}"
    return mapping


def test_no_generic_top_level_names_are_importable(tmp_path: Path) -> None:
    """`lang`, `compiler`… live only under `circ.`: from outside the repo, importing them bare fails."""
    probe = "import importlib.util as u; print([n for n in NAMES if u.find_spec(n) is not None])"
    names = ["lang", "compiler", "runtime", "learn", "stdlib"]
    found = subprocess.run(
        [sys.executable, "-c", probe.replace("NAMES", repr(names))],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert found.stdout.strip() == "[]"


def test_every_folder_with_code_is_a_listed_package() -> None:
    """A wheel ships only listed packages: an unlisted sub-folder would vanish outside editable installs."""
    mapping = _declared()
    listed = set(mapping)
    for package, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            dotted = ".".join((package, *relative))
            assert dotted in listed, f"{dotted} ({init.parent}) is missing from pyproject's packages"
        for code in (ROOT / folder).rglob("*.py"):
            assert (code.parent / "__init__.py").exists(), f"{code.parent} needs an __init__.py"


def test_stage_packages_import_under_circ() -> None:
    import circ.compiler
    import circ.lang
    import circ.learn
    import circ.runtime
    import circ.stdlib

    for module, folder in [(circ.lang, "lang"), (circ.compiler, "compiler"), (circ.stdlib, "stdlib")]:
        assert Path(module.__file__).resolve().parent == ROOT / folder
