"""`circ repl`: circ at the prompt, on the learned circuits of the catalog (DESIGN §9)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from circ.cli.edge import user_errors


def repl_command(
    file: Annotated[
        Path | None, typer.Argument(help="a .circ file to load first", show_default=False)
    ] = None,
    db: Annotated[str | None, typer.Option(help="catalog database URL (default: $CIRC_DB)")] = None,
) -> None:
    """Evaluate expressions, lets and fns interactively on the learned circuits."""
    from circ.collector import imports_paused

    with imports_paused():  # the stages' and, with the device, torch's (circ/collector.py)
        from rich.console import Console

        from circ.cli.repl.loop import Repl
        from circ.cli.repl.prompt import CircCompleter, history_file, make_prompt
        from circ.learn.catalog.provider import CatalogProvider
        from circ.session import Session
        from circ.settings import Settings

        settings = Settings.from_env(db=db)
        with user_errors():
            device = settings.torch_device()
    with user_errors(), settings.open_catalog() as catalog:
        session = Session(CatalogProvider(catalog, device), catalog, device)
        repl = Repl(session, Console())
        if file is not None:
            repl.handle(f":load {file}")
        if not sys.stdin.isatty():  # a script on stdin: the same inputs, no line editor
            repl.run_script(sys.stdin)
            return
        known = sorted(r.name for r in catalog.circuits())
        completer = CircCompleter(session.names, lambda: known)
        repl.run(make_prompt(completer, history_file(settings.data_dir)))
