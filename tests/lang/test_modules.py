"""Modules are files: one module per resolved path, however the root was named."""

from __future__ import annotations

from pathlib import Path

import pytest

from circ.lang.diagnostics import CircError
from circ.lang.modules import load


def test_a_cycle_through_an_absolute_root_is_reported_once_at_the_root(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "x.circ").write_text("use y;\nfn main(c: Color) -> Color { c }\n")
    (tmp_path / "y.circ").write_text("use x;\nfn f(c: Color) -> Color { c }\n")
    monkeypatch.chdir(tmp_path)
    root = str(tmp_path / "x.circ")
    with pytest.raises(CircError) as caught:
        load(root)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == f"import cycle: {root} → y.circ → {root}"


def test_a_module_reached_two_ways_is_loaded_once(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "z.circ").write_text("fn z(c: Color) -> Color { c }\n")
    (tmp_path / "lib" / "y.circ").write_text("use z;\nfn y(c: Color) -> Color { z(c) }\n")
    (tmp_path / "x.circ").write_text("use lib.y;\nuse lib.z;\nfn main(c: Color) -> Color { y(c) }\n")
    program = load(tmp_path / "x.circ")
    assert len(program.modules) == 3
    assert len({Path(p).resolve() for p in program.modules}) == 3
