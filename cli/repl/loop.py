"""The read-eval-print loop: each input is dispatched to `circ.session.Session` and its result shown
with rich. The session survives any input: a located mistake prints as the usual diagnostics, a bad
value or option as one `error:` line, Ctrl-C cancels the input (or a running evaluation), and even a
bug in circ prints one line instead of ending the session."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from prompt_toolkit import PromptSession
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from circ.cli.paint import painted
from circ.cli.repl.prompt import COMMANDS
from circ.lang.diagnostics import CircError
from circ.lang.errors import UserError
from circ.lang.layout import format_value
from circ.session import Declared, Evaluation, Session, classify

BANNER = "circ REPL: expressions run on the learned circuits; `:help` lists commands, Ctrl-D leaves."


class Repl:
    def __init__(self, session: Session, console: Console) -> None:
        self.session = session
        self.console = console

    def run(self, prompt: PromptSession) -> None:
        """Read inputs at a prompt until Ctrl-D or `:quit`."""
        self.console.print(BANNER, style="dim", highlight=False, soft_wrap=True)
        while True:
            try:
                text = prompt.prompt()
            except KeyboardInterrupt:  # Ctrl-C: the input is dropped, the session goes on
                continue
            except EOFError:
                return
            if not self.handle(text):
                return

    def run_script(self, lines: Iterable[str]) -> None:
        """Inputs from a file or a pipe (no terminal): lines gather until an input is complete, as at
        the prompt, and each input is echoed after the prompt so the output reads like a session."""
        from circ.cli.repl.prompt import complete_input

        pending: list[str] = []
        for line in [*lines, ""]:
            pending.append(line.rstrip("\n"))
            text = "\n".join(pending)
            if text.strip() and (complete_input(text) or not line.strip()):
                self.console.print(Text("circ> " + text.replace("\n", "\n...   "), style="bold"))
                pending = []
                if not self.handle(text):
                    return
            elif not text.strip():
                pending = []

    def handle(self, text: str) -> bool:
        """One input; False when it asks to leave."""
        try:
            return self.dispatch(text)
        except KeyboardInterrupt:
            self.console.print("cancelled", style="yellow")
        except CircError as exc:
            for d in exc.diagnostics:
                self.console.print(Text.from_ansi(painted(d, exc.sources, colour=True)), soft_wrap=True)
        except UserError as exc:
            self.console.print(Text(f"error: {exc}", style="red"), soft_wrap=True)
        except Exception as exc:  # a bug in circ: say so in one line and keep the session
            self.console.print(Text(f"internal error: {type(exc).__name__}: {exc}", style="bold red"))
        return True

    def dispatch(self, text: str) -> bool:
        kind = classify(text)
        if kind == "command":
            return self.command(text.strip())
        if kind == "let":
            evaluation = self.session.let(text)
            self.console.print(evaluation_view(evaluation, evaluation.what.removeprefix("let ")))
        elif kind == "declaration":
            for declared in self.session.declare(text):
                self.console.print(declared_view(declared))
        elif kind == "expression":
            self.show(self.session.evaluate(text))
        return True

    def show(self, evaluation: Evaluation) -> None:
        self.console.print(evaluation_view(evaluation))

    # --- commands -----------------------------------------------------------------------------

    def command(self, text: str) -> bool:
        name, _, rest = text.partition(" ")
        rest = rest.strip()
        session, out = self.session, self.console.print
        if name in (":quit", ":q", ":exit"):
            return False
        if name == ":help":
            out(help_view())
        elif name == ":type":
            out(Text.assemble((rest, "bold"), " : ", (str(session.type_of(rest)), "cyan")))
        elif name == ":trace":
            from circ.cli.show_trace import trace_tree

            evaluation = session.evaluate(rest)
            if evaluation.ran is None:
                out(evaluation_view(evaluation))
            else:
                out(trace_tree(evaluation.ran, 0, everything=True))
        elif name == ":graph":
            self.graph(rest)
        elif name == ":verify":
            from circ.cli.show_verify import report_view

            report = session.verify(rest)
            out(report_view(report, report.sources, 10.0, 25), crop=False)
        elif name == ":catalog":
            out(catalog_view(session, rest))
        elif name == ":example":
            if rest:
                key, value = session.set_example(rest)
                out(Text.assemble("running example: ", (key, "bold"), f" = {format_value(value)}"))
            else:
                shown = ", ".join(f"{k}={format_value(v)}" for k, v in session.examples.items())
                out(shown or "no examples set: each parameter takes a fixed value of its type")
        elif name == ":load":
            names = session.load(Path(rest).expanduser())
            out(f"loaded {rest}: {', '.join(names) or 'no declarations'}", highlight=False, soft_wrap=True)
        elif name == ":reload":
            names = session.reload()
            out(f"reloaded {session.base}: {', '.join(names) or 'no declarations'}", highlight=False)
        else:
            close = [c for c in COMMANDS if c.startswith(name[:3])]
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UserError(f"unknown command {name}{hint}; :help lists them")
        return True

    def graph(self, rest: str) -> None:
        from circ.cli.show_compile import graph_table
        from circ.compiler.dot import to_dot

        words = shlex.split(rest)
        png = None
        if "--png" in words:
            at = words.index("--png")
            if at + 1 >= len(words):
                raise UserError("--png needs a file name, e.g. :graph main --png main.png")
            png = words[at + 1]
            words = words[:at] + words[at + 2 :]
        graph = self.session.graph(" ".join(words))
        self.console.print(graph_table(graph))
        if png is not None:
            if shutil.which("dot") is None:
                raise UserError("--png needs Graphviz's `dot` on the PATH")
            done = subprocess.run(
                ["dot", "-Tpng", "-o", png], input=to_dot(graph), text=True, capture_output=True, check=False
            )
            if done.returncode != 0:
                raise UserError(f"dot could not draw {png}: {done.stderr.strip()}")
            self.console.print(f"wrote {png}", highlight=False)


def evaluation_view(e: Evaluation, named: str | None = None) -> RenderableType:
    """`[named =] value : Type   p=…   contracts ✓ n of n held`, grids drawn as grids below."""
    from rich.columns import Columns

    from circ.cli.show_trace import _blocks, _has_grid

    facts: list[str | tuple[str, str]] = [" : ", (str(e.type), "cyan")]
    if e.confidence is not None:
        facts.append(f"   p={e.confidence:.4f}")
    if e.checked:
        facts.append(("   contracts ✓", "green") if e.contracts_held else ("   contracts ✗", "bold red"))
        facts.append((f" {e.checked - len(e.failed)} of {e.checked} held", "dim"))
    if e.note:
        facts.append(("   " + e.note, "dim"))
    head: list[str | tuple[str, str]] = [(named, "bold"), " = "] if named else []
    grid = e.value is not None and _has_grid(e.value)
    if e.value is not None and not grid:
        head.append((format_value(e.value), "bold"))
    elif e.value is None and not named:
        head.append((e.what, "bold"))
    parts: list[RenderableType] = [Text.assemble(*head, *facts)]
    if grid:
        parts.append(Columns(_blocks("", e.value), padding=(0, 3)))
    parts += [Text(f"  ✗ {failure}", style="red") for failure in e.failed]
    return Group(*parts)


def declared_view(d: Declared) -> RenderableType:
    parts: list[RenderableType] = [Text.assemble((d.kind + " ", "dim"), (d.signature or d.name, "bold cyan"))]
    if d.note:
        parts.append(Text("  " + d.note, style="dim"))
    if d.example is not None:
        parts.append(Text("  on the running example:", style="dim"))
        parts.append(Group(Text("  ", end=""), evaluation_view(d.example, d.example.what)))
    return Group(*parts)


def catalog_view(session: Session, pattern: str) -> RenderableType:
    from circ.cli.catalog import _certified

    entries = session.catalog_entries(pattern)
    if not entries:
        return Text(f"no catalogued circuit matches {pattern!r}" if pattern else "the catalog is empty")
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("name", "signature", "certified"):
        table.add_column(column, no_wrap=column != "signature", overflow="fold")
    for record, certificate in entries:
        table.add_row(
            Text(record.ref), Text(record.signature), _certified(certificate, record.weights_sha256)
        )
    return table


def help_view() -> RenderableType:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    rows = [
        ("EXPR", "evaluate on the learned circuits: value, type, confidence, contracts"),
        ("let x = EXPR;", "bind a value (later inputs see it)"),
        ("fn / circuit / type / use", "declare; a fn is shown on the running example"),
    ]
    for command, meta in COMMANDS.items():
        rows.append((command, meta.split(" — ")[-1]))
    for row in rows:
        table.add_row(*row)
    note = Text(
        "Enter submits a complete input; an empty line submits what is there. Tab completes.", style="dim"
    )
    return Group(table, note)
