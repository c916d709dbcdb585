"""`circ compile --emit passes|kernels` and `circ run --backend`, on the shipped circuits."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from circ.cli import app

from support import EXAMPLES, use_triton_interpreter

use_triton_interpreter()  # before triton is first imported (the test below imports it)
runner = CliRunner()
COMBINATORS = str(EXAMPLES / "combinators.circ")
ROW = ["-i", "xs=[1,2,3,4,5,9]", "-i", "ys=[0,0,0,0,0,5]", "-i", "g=[[1,0,1],[2,1,3],[1,1,1]]"]


@pytest.fixture
def db(tmp_path) -> str:
    """An empty user catalog: only the packaged stdlib circuits are there."""
    return f"sqlite:///{tmp_path / 'catalog.db'}"


def test_emit_passes_shows_each_stage_with_counts() -> None:
    result = runner.invoke(app, ["compile", COMBINATORS, "--emit", "passes"])
    assert result.exit_code == 0, result.output
    titles = [line for line in result.output.splitlines() if line.startswith(("lowered:", "after "))]
    assert [t.split(":")[0] for t in titles] == [
        "lowered", "after fold", "after cse", "after dce", "after batch", "after fuse"
    ]  # fmt: skip
    assert "75 nodes, 33 circuit nodes for 33 calls" in titles[0]
    assert "10 circuit nodes for 33 calls" in titles[4] and "2 kernels" in titles[5]


def test_emit_kernels_lists_the_specialisation_and_the_source(db) -> None:
    result = runner.invoke(app, ["compile", COMBINATORS, "--emit", "kernels", "--db", db])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "# 2 kernels for 33 circuit calls" in out and out.count("@triton.jit") == 2
    assert "#   color.succ: 1 layer(s), causal" in out and "positions 2→2" in out
    assert "def kernel_0(w, x, y, conf, rows" in out


def test_emit_kernels_needs_the_circuits(tmp_path, db) -> None:
    program = tmp_path / "p.circ"
    program.write_text(
        'circuit f(a: Color) -> Color learned "no.such";\nfn main(a: Color) -> Color { f(a) }\n'
    )
    result = runner.invoke(app, ["compile", str(program), "--emit", "kernels", "--db", db])
    assert result.exit_code == 1 and result.output.startswith("error: ") and "no.such" in result.output
    assert "Traceback" not in result.output


def run_json(db: str, *extra: str) -> list[dict]:
    result = runner.invoke(app, ["run", COMBINATORS, *ROW, "--json", "--db", db, *extra])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU the triton backend runs")
def test_triton_on_cpu_without_the_interpreter_is_one_clean_line(db, monkeypatch) -> None:
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    result = runner.invoke(app, ["run", COMBINATORS, *ROW, "--db", db, "--backend", "triton"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: the triton backend needs a CUDA GPU (on CPU it runs only under TRITON_INTERPRET=1, for tests)"
    )


def test_every_backend_gives_the_same_answer(db) -> None:
    pytest.importorskip("triton")
    torch_rows = run_json(db, "--backend", "torch")
    assert torch_rows[0]["output"] == [[3, 4, 5, 6, 7, 6], 9, [[2, 0, 2], [2, 2, 3], [2, 2, 2]]]
    for backend in ("triton", "auto"):
        rows = run_json(db, "--backend", backend)
        assert rows[0]["output"] == torch_rows[0]["output"]
        assert rows[0]["confidence"] == pytest.approx(torch_rows[0]["confidence"], rel=1e-4)
