"""`circ catalog list|show|export|import` as a user runs them: tables, exit codes, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from circ.circuit.config import ModelConfig
from circ.cli import app
from circ.learn.catalog import Catalog, export_catalog
from circ.learn.model import build_model, weight_bytes

from support import certificate

CONFIG = ModelConfig(vocab=8, n_positions=3, out_vocab=7, n_out=1, d_model=16, n_heads=2, d_mlp=32)
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A private data dir, database and (empty) stdlib catalog; wide enough that tables never wrap."""
    return {
        "CIRC_HOME": str(tmp_path / "home"),
        "CIRC_DB": f"sqlite:///{tmp_path / 'user.db'}",
        "CIRC_STDLIB_CATALOG": str(tmp_path / "stdlib"),
        "COLUMNS": "250",
    }


def run(env: dict[str, str], *args: str):
    return runner.invoke(app, ["catalog", *args], env=env)


def one_error(result) -> str:
    """The run failed with exactly one `error:` line on stderr, and no traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def add_circuit(
    catalog: Catalog, tmp_path: Path, name: str, seed: int, accuracy: float | None = None
) -> None:
    data = weight_bytes(build_model(CONFIG, seed).state_dict(), CONFIG, {"task": "mod_add[p=7]"})
    signature = "(Mod[7], Mod[7]) -> Mod[7]"
    record = catalog.register_circuit(
        name, signature, "ensures result == (a + b) % 7", "mod_add[p=7]", None, data
    )
    if accuracy is not None:
        wrong = [{"args": [3, 4], "expected": 0, "got": 5}] if accuracy < 1 else []
        result = certificate(49, accuracy, sha=record.weights_sha256, counterexamples=wrong)
        catalog.add_certificate(name, result)


def user_catalog(env: dict[str, str], tmp_path: Path) -> Catalog:
    return Catalog(env["CIRC_DB"], tmp_path / "blobs")  # where Settings puts blobs: beside the database


def test_list_shows_user_and_stdlib_circuits(env: dict[str, str], tmp_path: Path) -> None:
    with Catalog(f"sqlite:///{tmp_path / 'ship.db'}", tmp_path / "ship-blobs") as shipping:
        add_circuit(shipping, tmp_path, "mod7.shipped", seed=1, accuracy=1.0)
        export_catalog(shipping, tmp_path / "stdlib")
    with user_catalog(env, tmp_path) as catalog:
        add_circuit(catalog, tmp_path, "mod7.add", seed=0, accuracy=48 / 49)
    result = run(env, "list")
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│ mod7." in line}
    assert set(rows) == {"mod7.add", "mod7.shipped"}
    assert "97.95% exhaustive" in rows["mod7.add"] and "user" in rows["mod7.add"]
    assert "100% exhaustive" in rows["mod7.shipped"] and "stdlib" in rows["mod7.shipped"]
    assert "(Mod[7], Mod[7]) -> Mod[7]" in rows["mod7.add"] and "2,384" in rows["mod7.add"]
    assert "mod_add[p=7]" in rows["mod7.add"]  # not eaten as rich markup
    assert "2 circuits" in result.stdout


def test_list_of_an_empty_catalog(env: dict[str, str]) -> None:
    result = run(env, "list")
    assert result.exit_code == 0, result.output
    assert "0 circuits" in result.stdout


def test_show_prints_config_weights_certificate_and_counterexamples(
    env: dict[str, str], tmp_path: Path
) -> None:
    with user_catalog(env, tmp_path) as catalog:
        add_circuit(catalog, tmp_path, "mod7.add", seed=0, accuracy=48 / 49)
        path = catalog.weights_path(catalog.get("mod7.add"))
    result = run(env, "show", "mod7.add")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for expected in (
        '"d_model": 16',
        str(path),
        "97.95% exhaustive",
        "49 of 49 inputs run",
        "in fp32 on torch",
        '{"args": [3, 4], "expected": 0, "got": 5}',
        "ensures result == (a + b) % 7",
    ):
        assert expected in out, expected
    assert run(env, "show", "mod7.add@1").exit_code == 0


def test_unknown_circuit_suggests_close_names(env: dict[str, str], tmp_path: Path) -> None:
    with user_catalog(env, tmp_path) as catalog:
        add_circuit(catalog, tmp_path, "mod7.add", seed=0)
    line = one_error(run(env, "show", "mod7.ad"))
    assert line == "error: unknown circuit 'mod7.ad'; did you mean 'mod7.add'?"
    assert "has no version 3" in one_error(run(env, "show", "mod7.add@3"))


@pytest.mark.parametrize("url", ["sqlite:////nonexistent-dir/sub/x.db", "nosuchdb://x", "not a url"])
def test_a_database_url_that_cannot_be_opened(env: dict[str, str], url: str) -> None:
    line = one_error(run(env, "list", "--db", url))
    assert line.startswith("error: cannot open catalog database ")


def test_db_flag_beats_the_environment(env: dict[str, str], tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    with Catalog(other, tmp_path / "blobs") as catalog:
        add_circuit(catalog, tmp_path, "mod7.elsewhere", seed=0)
    assert "mod7.elsewhere" in run(env, "list", "--db", other).stdout
    assert "mod7.elsewhere" not in run(env, "list").stdout


def test_a_corrupted_weights_file_is_one_clean_error(env: dict[str, str], tmp_path: Path) -> None:
    with user_catalog(env, tmp_path) as catalog:
        add_circuit(catalog, tmp_path, "mod7.add", seed=0)
        path = catalog.weights_path(catalog.get("mod7.add"))
    path.write_bytes(path.read_bytes()[:-4])
    line = one_error(run(env, "export", str(tmp_path / "out")))
    assert "circuit 'mod7.add'" in line and "corrupted" in line and str(path) in line
    path.unlink()
    line = one_error(run(env, "export", str(tmp_path / "out")))
    assert "circuit 'mod7.add'" in line and "missing" in line and str(path) in line


def test_export_then_import_into_another_database(env: dict[str, str], tmp_path: Path) -> None:
    with user_catalog(env, tmp_path) as catalog:
        add_circuit(catalog, tmp_path, "mod7.add", seed=0, accuracy=1.0)
        add_circuit(catalog, tmp_path, "mod7.other", seed=1, accuracy=48 / 49)
    result = run(env, "export", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert f"exported 2 circuits to {tmp_path / 'out'}" in result.stdout
    other = f"sqlite:///{tmp_path / 'other' / 'o.db'}"
    (tmp_path / "other").mkdir()
    result = run(env, "import", str(tmp_path / "out"), "--db", other)
    assert result.exit_code == 0, result.output
    assert "imported 2 circuits (2 new) and 2 certificates" in result.stdout
    listed = run(env, "list", "--db", other).stdout
    assert "mod7.add" in listed and "100% exhaustive" in listed and "97.95% exhaustive" in listed
    assert "(0 new) and 0 certificates" in run(env, "import", str(tmp_path / "out"), "--db", other).stdout


def test_import_of_a_directory_that_is_not_an_export(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "manifest.json").write_text('{"format": "circ.catalog/1", "circuits": [{}]}')
    line = one_error(run(env, "import", str(tmp_path / "junk")))
    assert "manifest.json: circuits[0].name is missing" in line
    assert "no manifest.json" in one_error(run(env, "import", str(tmp_path / "empty")))
