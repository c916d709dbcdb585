"""`circ repl` driven through prompt_toolkit's pipe input (keys as a terminal sends them), on real
circuits from a real catalog; and once in a real terminal under tmux."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from circ.cli.repl.loop import Repl
from circ.cli.repl.prompt import CircCompleter, complete_input, make_prompt
from circ.learn.catalog.provider import CatalogProvider
from circ.session import Session
from circ.settings import Settings

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PRELUDE = """
circuit plus(a: Color, b: Color) -> Color ensures result == (a + b) % 10 learned "t.add";
circuit bigger(a: Color, b: Color) -> Color ensures result >= a and result >= b learned "t.max";
"""


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    path = tmp_path / "lib.circ"
    path.write_text(PRELUDE)
    return path


@pytest.fixture
def repl_run(trained_catalog: str, lib: Path, tmp_path: Path) -> Iterator:
    """Type `keys` into a REPL with `lib.circ` loaded; returns everything it printed."""
    catalog = Settings.from_env(db=trained_catalog).open_catalog()

    def run(keys: str) -> str:
        session = Session(CatalogProvider(catalog), catalog)
        out = io.StringIO()
        repl = Repl(session, Console(file=out, width=80, no_color=True))
        repl.handle(f":load {lib}")
        history = FileHistory(str(tmp_path / "history"))
        with create_pipe_input() as pipe:
            pipe.send_text(keys)
            pipe.close()  # then EOF: Ctrl-D ends the session
            repl.run(
                make_prompt(
                    CircCompleter(session.names, lambda: ["t.add", "t.max"]), history, pipe, DummyOutput()
                )
            )
        return out.getvalue()

    yield run
    catalog.close()


def test_an_expression_shows_value_type_confidence_and_contracts(repl_run) -> None:
    out = repl_run("plus(3, 4)\r")
    line = next(line for line in out.splitlines() if line.startswith("7 : Color"))
    assert "p=0." in line or "p=1." in line
    assert "contracts ✓ 1 of 1 held" in line


def test_let_fn_multiline_and_the_running_example(repl_run) -> None:
    keys = (
        "let k: Color = 4;\r"
        "let m = bigger(plus(k, 3), 2);\r"
        "fn twice(a: Color) -> Color\r"  # incomplete: Enter goes on to a new line
        "  ensures result == (a + a) % 10\r"
        "{\r  plus(a, a)\r}\r"
        ":example a=3\r"
        "fn again(a: Color) -> Color { twice(a) }\r"
        "twice(m)\r"
        ":type twice\r"
    )
    out = repl_run(keys)
    assert "k = 4 : Color" in out
    assert "m = 7 : Color" in out and "contracts ✓ 2 of 2 held" in out
    assert "fn twice(a: Color) -> Color" in out
    assert "running example: a = 3" in out
    assert "again(3) = 6 : Color" in out  # the fn, run at once on the example set for `a`
    assert "4 : Color" in out.split("twice(m)")[-1]  # twice(7) = 14 mod 10
    assert "twice : Color -> Color" in out


def test_errors_are_diagnostics_and_the_session_survives(repl_run) -> None:
    out = repl_run(
        "plus(3, true)\r$$$\r:nonsense\rlet = 3;\rfn f(x: Color) -> Bool { plus(x, x) }\rplus(1, 1)\r"
    )
    assert "<input>:1:9: error: argument 2 of `plus` should be Color, but this is Bool" in out
    assert "     1 | plus(3, true)" in out and "^^^^" in out
    assert "unexpected character '$'" in out
    assert "error: unknown command :nonsense" in out
    assert "<input>:1:26: error: `f` returns Bool, but this is Color" in out
    assert "2 : Color" in out  # the last input still runs
    assert "Traceback" not in out


def test_ctrl_c_cancels_the_line_not_the_session(repl_run) -> None:
    out = repl_run("plus(9, \x03plus(2, 2)\r")
    assert "4 : Color" in out and "error" not in out


def test_trace_graph_catalog_reload_and_verify(repl_run, lib: Path, tmp_path: Path) -> None:
    png = tmp_path / "g.png"
    keys = (
        "fn both(a: Color, b: Color) -> Color { bigger(plus(a, b), b) }\r"
        ":trace both(7, 5)\r"
        f":graph both{' --png ' + str(png) if shutil.which('dot') else ''}\r"
        ":catalog t.\r"
        ":verify both\r"
    )
    out = repl_run(keys)
    assert "both(7, 5)" in out and "plus [t.add](7, 5) = 2" in out and "bigger [t.max](2, 5) = 5" in out
    assert "input a" in out and "n0" in out  # the graph table
    assert "t.add@1" in out and "t.max@1" in out
    assert "composition proofs" in out and "property tests" in out
    if shutil.which("dot"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lib.write_text(PRELUDE + "fn seven() -> Color { plus(3, 4) }\n")
    out = repl_run(":reload\rseven()\r")
    assert "seven" in out and "7 : Color" in out


def test_history_is_kept_in_a_file(repl_run, tmp_path: Path) -> None:
    repl_run("plus(1, 2)\r")
    assert "plus(1, 2)" in (tmp_path / "history").read_text()


def test_completion_offers_names_in_scope_with_their_types(trained_catalog, lib: Path) -> None:
    session = Session()
    session.load(lib)
    session.let("let kk: Color = 4;")
    completer = CircCompleter(session.names, lambda: ["t.add", "t.max", "mod97.add"])

    def offered(text: str) -> dict[str, str]:
        found = completer.get_completions(Document(text), CompleteEvent(completion_requested=True))
        return {c.text: c.display_meta_text for c in found}

    assert offered("pl") == {"plus": "circuit plus(a: Color, b: Color) -> Color"}
    assert offered("zip(k") == {"kk": "let : Color"}
    assert set(offered('circuit f(a: Color) -> Color learned "t.')) == {"t.add", "t.max"}
    assert ":trace" in offered(":tr")


@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("plus(1, 2)", True),
        ("plus(1,", False),
        ("fn f(a: Color) -> Color", False),
        ("fn f(a: Color) -> Color { plus(a, a) }", True),
        ('circuit c(a: Color) -> Color learned "t.add"', False),
        ('circuit c(a: Color) -> Color learned "t.add";', True),
        ("let x = [1, 2,", False),
        ("plus(1, 2))", True),  # the parser will say where
    ],
)
def test_enter_submits_only_a_complete_input(text: str, complete: bool) -> None:
    assert complete_input(text) is complete


def test_a_script_on_stdin_runs_as_a_session(trained_catalog, lib: Path) -> None:
    from typer.testing import CliRunner

    from circ.cli import app

    script = "plus(3, 4)\nfn f(a: Color) -> Color {\n  plus(a, 1)\n}\nf(8)\n"
    result = CliRunner().invoke(app, ["repl", str(lib), "--db", trained_catalog], input=script)
    assert result.exit_code == 0, result.output
    assert "7 : Color" in result.output and "9 : Color" in result.output


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (CI installs it)")
def test_in_a_real_terminal_under_tmux(trained_catalog, lib: Path, tmp_path: Path) -> None:
    socket = f"circ-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "CIRC_DB": trained_catalog,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "OMP_NUM_THREADS": "1",
    }
    env.pop("NO_COLOR", None)
    command = f"{sys.executable} -m circ repl {lib}"
    tmux = ["tmux", "-L", socket]
    subprocess.run([*tmux, "new-session", "-d", "-x", "100", "-y", "30", command], env=env, check=True)

    def screen() -> str:
        return subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout

    def wait_for(text: str, seconds: float = 60) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            shown = screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{screen()}")

    def keys(*sent: str) -> None:
        subprocess.run([*tmux, "send-keys", *sent], check=True)

    try:
        wait_for("circ>")  # capture-pane drops trailing spaces
        keys("plus(3, 4)", "Enter")
        wait_for("7 : Color")
        keys("plus(1,", "C-c")  # cancels the line
        keys("bigger(2, 8)", "Enter")
        shown = wait_for("8 : Color")
        assert "plus(1," not in shown.split("8 : Color")[-1]
        keys("C-d")
        deadline = time.monotonic() + 20
        while (
            time.monotonic() < deadline
            and subprocess.run([*tmux, "has-session"], capture_output=True).returncode == 0
        ):
            time.sleep(0.2)
        assert (tmp_path / "data" / "circ" / "repl_history").read_text().count("plus(3, 4)") == 1
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
