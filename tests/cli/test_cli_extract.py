"""`circ extract prune|transcoder|graph` as a user runs them on a shipped circuit: what they print,
what they register, the files they write, one-line errors, and that `circ run` runs the result."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from circ.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A private database in front of the shipped stdlib, with color.add pruned and transcoded."""
    root = tmp_path_factory.mktemp("extract")
    env = {"CIRC_HOME": str(root / "home"), "CIRC_DB": f"sqlite:///{root / 'user.db'}", "COLUMNS": "200"}
    env["OUT"] = str(root / "out")
    return env


def run(env: dict[str, str], *args: str):
    return runner.invoke(app, list(args), env={k: v for k, v in env.items() if k != "OUT"})


def one_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def pruned(env: dict[str, str]):
    return run(env, "extract", "prune", "color.add", "--out", env["OUT"])


@pytest.fixture(scope="module")
def transcoded(env: dict[str, str], pruned):
    return run(env, "extract", "transcoder", "color.add", "--steps", "400", "--out", env["OUT"])


def test_prune_registers_a_certified_circuit(env, pruned) -> None:
    assert pruned.exit_code == 0, pruned.output
    out = pruned.stdout
    assert "registered color.add.pruned@1" in out and "100.00% of 100 inputs (every input)" in out
    assert "neurons" in out and "of 64" in out and "faithfulness: zero ablation CPR" in out
    assert (Path(env["OUT"]) / "color.add.pruned.safetensors").is_file()
    assert (Path(env["OUT"]) / "color.add.pruned.faithfulness.png").stat().st_size > 0
    listed = run(env, "catalog", "list")
    assert "color.add.pruned" in listed.stdout and "100% exhaustive" in listed.stdout
    shown = run(env, "catalog", "show", "color.add.pruned")
    assert shown.exit_code == 0 and re.search(r"derived from\s+color\.add@1 \(prune\)", shown.stdout)


def test_the_runtime_runs_the_pruned_circuit_unchanged(env, pruned, tmp_path: Path) -> None:
    program = tmp_path / "pruned.circ"
    program.write_text(
        "circuit add(a: Color, b: Color) -> Color\n"
        "  ensures result == (a + b) % 10\n"
        '  learned "color.add.pruned";\n\n'
        "fn main(a: Color, b: Color) -> Color { add(a, b) }\n"
    )
    result = run(env, "run", str(program), "-i", "a=3", "-i", "b=7", "--json")
    assert result.exit_code == 0, result.output
    assert '"output": 0' in result.stdout
    every = run(env, "run", str(program), "--all", "--json")
    assert every.exit_code == 0, every.output
    rows = [json.loads(line) for line in every.stdout.strip().splitlines()]
    assert len(rows) == 100
    assert all(r["output"] == (r["inputs"]["a"] + r["inputs"]["b"]) % 10 for r in rows)


def test_an_impossible_sparsity_is_one_error_line(env) -> None:
    line = one_error(run(env, "extract", "prune", "color.add", "--sparsity", "0.99", "--out", env["OUT"]))
    assert line.startswith("error: sparsity: 99.0% is out of reach")


def test_transcoder_reports_and_labels(env, transcoded) -> None:
    assert transcoded.exit_code == 0, transcoded.output
    out = transcoded.stdout
    assert "replacement model (every MLP swapped):" in out and "FVU" in out and "feature labels" in out
    assert (Path(env["OUT"]) / "color.add.transcoder.labels.json").is_file()


def test_graph_writes_circuit_tracer_json_and_pictures(env, transcoded) -> None:
    result = run(env, "extract", "graph", "color.add", "-i", "3", "-i", "7", "--out", env["OUT"])
    assert result.exit_code == 0, result.output
    assert "replacement score" in result.stdout and "QK" in result.stdout
    for suffix in (".json", ".png", ".svg", ".qk.json"):
        assert (Path(env["OUT"]) / f"color.add-3-7{suffix}").is_file()


def test_catalog_show_lists_extractions_and_labels(env, transcoded) -> None:
    result = run(env, "catalog", "show", "color.add")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "extractions" in out and "prune" in out and "→ color.add.pruned@1" in out
    assert "transcoder" in out and "feature_labels" in out and "feature labels (#" in out


def test_bad_graph_inputs_are_one_error_line(env, transcoded) -> None:
    line = one_error(run(env, "extract", "graph", "color.add", "-i", "3", "--out", env["OUT"]))
    assert "takes 2 argument(s) (Color, Color), got 1" in line
    line = one_error(run(env, "extract", "graph", "color.add", "-i", "3", "-i", "12", "--out", env["OUT"]))
    assert line.startswith("error: input 2: expected Color (0..9), got 12")
    line = one_error(run(env, "extract", "graph", "color.max", "-i", "3", "-i", "1", "--out", env["OUT"]))
    assert "no transcoder extraction yet" in line
    args = (
        "extract",
        "graph",
        "color.add",
        "-i",
        "3",
        "-i",
        "1",
        "--node-threshold",
        "1.5",
        "--out",
        env["OUT"],
    )
    assert one_error(run(env, *args)).startswith("error: node_threshold: must be between 0 and 1")


def test_unknown_circuits_and_big_domains_are_one_error_line(env) -> None:
    assert "unknown circuit" in one_error(run(env, "extract", "prune", "color.nope"))
    line = one_error(run(env, "extract", "prune", "grid5.rot90"))
    assert "too many to enumerate" in line or "enumerated" in line


def test_bad_transcoder_options_are_one_error_line(env) -> None:
    line = one_error(run(env, "extract", "transcoder", "color.add", "--cross-layer", "--out", env["OUT"]))
    assert line.startswith("error: cross_layer: color.add has one layer")
    line = one_error(
        run(env, "extract", "transcoder", "color.add", "--architecture", "topk", "--out", env["OUT"])
    )
    assert line.startswith("error: k: a topk transcoder needs")


def test_an_out_that_is_a_file_is_one_error_line(env, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    line = one_error(run(env, "extract", "prune", "bool.not", "--out", str(blocker / "sub")))
    assert line.startswith("error: out: ")
    assert "bool.not.pruned" not in run(env, "catalog", "list").stdout  # nothing recorded
