"""`circ lsp`: a language server on stdio for any editor that speaks LSP (`circ.cli.lsp_server`)."""

from __future__ import annotations

from typing import Annotated

import typer


def lsp_command(
    db: Annotated[str | None, typer.Option(help="catalog database URL (default: $CIRC_DB)")] = None,
) -> None:
    """Serve the Language Server Protocol on stdin/stdout (diagnostics, hover, definitions, completion)."""
    from circ.cli.edge import user_errors
    from circ.cli.lsp_server import make_server
    from circ.settings import Settings

    with user_errors(), Settings.from_env(db=db).open_catalog() as catalog:
        make_server(catalog).start_io()
