"""`circ verify` on contracts at the edge of their meaning ends in a verdict, never a traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from circ.cli import app

runner = CliRunner()


def test_an_index_out_of_range_in_a_grid_contract_is_refuted_not_a_crash(tmp_path: Path) -> None:
    """`g[4 - 4 - c, …]` is out of range for c > 0: the `ensures` is undefined there, so Z3 refutes
    it (found by the depth experiment; it used to be a Z3 parser error)."""
    path = tmp_path / "p.circ"
    path.write_text(
        "use stdlib.grids;\n"
        "fn main(g: Grid[5, 5]) -> Grid[5, 5]\n"
        "  ensures forall r in 0..5: forall c in 0..5: result[r, c] == g[4 - 4 - c, 4 - r]\n"
        "{ hmirror(rot90(g)) }\n"
    )
    env = {"CIRC_HOME": str(tmp_path / "home"), "CIRC_DB": f"sqlite:///{tmp_path / 'u.db'}"}
    result = runner.invoke(app, ["verify", str(path), "--examples", "5"], env=env)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "verdict: failed" in result.output and "refuted" in result.output
