"""`circ synth SPEC`: a thin typer command over `circ.synth.synthesize`.

The program goes to stdout (so `circ synth spec.circ > prog.circ` saves it) or to `--out`; the
progress, the verdict and the search's figures go to stderr. Exit code 0 when every spec searched
for was found, 1 otherwise.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from circ.cli.edge import fail, user_errors

if TYPE_CHECKING:
    from circ.synth.synthesize import Synthesis


def synth_command(
    spec: Annotated[
        Path, typer.Argument(help="a .circ file with `synth fn` declarations", show_default=False)
    ],
    name: Annotated[str | None, typer.Option(help="the `synth fn` to search for (default: each)")] = None,
    max_size: Annotated[int, typer.Option(help="largest program size (syntax-tree nodes) to try")] = 8,
    timeout: Annotated[float, typer.Option(help="seconds of search per spec")] = 60.0,
    out: Annotated[Path | None, typer.Option(help="write the program here instead of stdout")] = None,
    library: Annotated[
        Path | None, typer.Option(help="a learned library module whose functions are components too")
    ] = None,
    verify: Annotated[bool, typer.Option(help="judge each candidate with `circ verify`")] = True,
    llm: Annotated[bool, typer.Option(help="ask the LLM at $CIRC_LLM_URL first, when it is set")] = True,
    db: Annotated[str | None, typer.Option(help="catalog database URL (default: $CIRC_DB)")] = None,
) -> None:
    """Compose the catalog's circuits into a program that fits a spec's examples and contract."""
    import torch

    from circ.lang.modules import read_source
    from circ.settings import Settings
    from circ.synth.llm import ChatEndpoint, propose
    from circ.synth.search import Budget
    from circ.synth.spec import save, spec_from_text, synth_names
    from circ.synth.synthesize import synthesize

    if max_size < 1 or timeout <= 0:
        raise fail("--max-size must be ≥ 1 and --timeout > 0")
    torch.set_num_threads(1)  # the search runs many small batches: one thread is faster on a shared CPU
    settings = Settings.from_env(db=db)
    err = Console(stderr=True, soft_wrap=True)
    found_all = True
    with user_errors():
        text = read_source(spec)
        lib = read_source(library) if library else ""
        first = spec_from_text(str(spec), text, name, lib)
        names = [name] if name else synth_names(first.checked)
        if out is not None and len(names) > 1:
            raise fail(f"--out takes one spec; {spec} has {len(names)} (pick one with --name)")
        endpoint = ChatEndpoint.from_env() if llm else None
        proposer = functools.partial(propose, endpoint=endpoint) if endpoint is not None else None
        with settings.open_catalog() as catalog:
            for spec_name in names:
                one = spec_from_text(str(spec), text, spec_name, lib)
                with err.status(f"searching for `{spec_name}`…") as status:

                    def progress(p, status=status, spec_name=spec_name):
                        status.update(
                            f"`{spec_name}`: size {p.size} · {p.candidates:,} candidates · "
                            f"{p.distinct:,} distinct values · {p.seconds:.1f} s"
                        )

                    result = synthesize(
                        one,
                        catalog,
                        Budget(max_size, timeout),
                        verify=verify,
                        proposer=proposer,
                        progress=progress,
                        device=settings.torch_device(),
                    )
                _report(err, result)
                if not result.found:
                    found_all = False
                elif out is not None:
                    save(out, result.program)
                    err.print(f"[dim]wrote {out}[/]", highlight=False)
                else:
                    typer.echo(result.program)
    raise typer.Exit(code=0 if found_all else 1)


def _report(err: Console, result: Synthesis) -> None:
    for note in result.notes:
        err.print(f"[dim]{note}[/]", highlight=False)
    if result.levels:
        table = Table(
            "size", "candidates", "distinct values", "fit the spec", title=f"search for `{result.spec.name}`"
        )
        for level in result.levels:
            partial = "" if level.complete else " (time out)"
            table.add_row(
                str(level.size),
                f"{level.candidates:,}{partial}",
                f"{level.distinct:,}",
                str(len(level.consistent)),
            )
        err.print(table)
    for body, verdict in result.rejected:
        err.print(
            f"[yellow]rejected[/] {body}: {verdict.verdict}; {' '.join(verdict.checks)[:200]}",
            highlight=False,
        )
    style = "green" if result.found else "red"
    err.print(f"[{style}]{result.summary()}[/]", highlight=False)
    if result.found:
        for check in result.verdict.checks:
            err.print(f"  ✓ {check}", highlight=False)
        for mistake in result.verdict.circuit_mistakes:
            err.print(f"  [yellow]⚠ a circuit, not the program, is wrong here:[/] {mistake}", highlight=False)
        err.print(f"verdict: [bold]{result.verdict.verdict}[/]", highlight=False)
