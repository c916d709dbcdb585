"""`circ catalog list|show|certify|export|import`: thin typer commands over `circ.learn.catalog`
(`add` and the TransformerLens export are in cli/interchange.py).

Errors a user can cause (an unknown circuit, a database URL that cannot be opened, a corrupted or
missing weights file, a malformed manifest) print one line, `error: …`, and exit 1.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from circ.cli.edge import fail, user_errors

if TYPE_CHECKING:
    from circ.learn.catalog import Catalog, CertificateRecord

catalog_app = typer.Typer(help="Trained circuits: list, inspect, export and import.", no_args_is_help=True)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Catalog database URL (default: $CIRC_DB, else SQLite in the data dir).",
        show_default=False,
    ),
]
NameArg = Annotated[str, typer.Argument(help="Circuit name, or NAME@VERSION.", show_default=False)]


def _console() -> Console:
    return Console(soft_wrap=True)


@contextmanager
def _opened(db: str | None) -> Iterator[Catalog]:
    """The catalog from flags and env; a library error becomes one `error:` line and exit code 1."""
    from circ.settings import Settings

    with user_errors(), Settings.from_env(db=db).open_catalog() as catalog:
        yield catalog


def _percent(accuracy: float) -> str:
    """Rounded down, so anything short of every point never reads as 100%."""
    return f"{math.floor(accuracy * 10_000) / 100:.2f}%"


def _certified(cert: CertificateRecord | None) -> Text:
    if cert is None:
        return Text("—", style="dim")
    how = "full" if not cert.sampled else "sampled"
    style = "green" if cert.certified else ("yellow" if cert.sampled else "red")
    return Text(f"{_percent(cert.accuracy)} {how}", style=style)


@catalog_app.command("list")
def list_(db: DbOpt = None) -> None:
    """Every catalogued circuit (newest version of each), with its certified accuracy."""
    with _opened(db) as catalog:
        records = catalog.circuits()
        table = Table(title="circ catalog", header_style="bold")
        for column in ("name", "version", "signature", "task", "params", "certified", "source"):
            justify = "right" if column in ("version", "params") else "left"
            table.add_column(column, justify=justify, overflow="fold")  # fold: never hide a name with …
        for r in records:
            params = f"{r.n_params:,}" if r.n_params is not None else "?"
            certified = _certified(catalog.latest_certificate(r.ref))
            table.add_row(
                Text(r.name), str(r.version), Text(r.signature), Text(r.task), params, certified, r.source
            )
    console = _console()
    console.print(table)
    console.print(f"{len(records)} circuit{'' if len(records) == 1 else 's'}", highlight=False)


@catalog_app.command()
def show(name: NameArg, db: DbOpt = None) -> None:
    """One circuit in full: signature, contract, model config, weights file and latest certificate."""
    with _opened(db) as catalog:
        record = catalog.get(name)
        versions = [v.version for v in catalog.versions(record.name)]
        cert = catalog.latest_certificate(record.ref)
        path = catalog.weights_path(record)
        runs = catalog.training_runs(record.ref) if record.id is not None else []
    info = Table.grid(padding=(0, 2))
    info.add_column(style="bold")
    info.add_column(overflow="fold")
    rows = [
        ("name", record.name),
        ("version", f"{record.version} (versions: {', '.join(map(str, versions))})"),
        ("source", record.source),
        ("signature", record.signature),
        ("contract", record.contract or "—"),
        ("task", record.task),
        ("params", f"{record.n_params:,}" if record.n_params is not None else "?"),
        ("config", json.dumps(record.config, sort_keys=True)),
        ("weights", f"{record.weights_sha256}\n{path}"),
        ("created", record.created.isoformat(timespec="seconds")),
        ("training runs", ", ".join(f"#{r.id} seed {r.seed} {r.status}" for r in runs) or "—"),
    ]
    for key, value in rows:
        info.add_row(key, Text(value))
    info.add_row("certificate", _certified(cert))
    if cert is not None:
        checked = f"{cert.n_checked:,}" if cert.n_checked is not None else "an unknown number"
        info.add_row(
            "",
            Text(
                f"{checked} of {cert.domain_size:,} inputs checked, "
                f"{cert.created.isoformat(timespec='seconds')}"
            ),
        )
    console = _console()
    console.print(info)
    if cert is not None and cert.counterexamples:
        table = Table(title=f"counterexamples (first {len(cert.counterexamples)})", header_style="bold")
        table.add_column("#", justify="right")
        table.add_column("counterexample")
        for i, example in enumerate(cert.counterexamples):
            table.add_row(str(i), Text(json.dumps(example)))
        console.print(table)


@catalog_app.command()
def certify(
    name: NameArg,
    seed: Annotated[int, typer.Option(help="Seed of the sample, for domains too big to enumerate.")] = 0,
    db: DbOpt = None,
) -> None:
    """Run a circuit on its whole domain (or a seeded sample of 10^6) against its task's reference."""
    from circ.verify.certify import certify as run_certification

    with _opened(db) as catalog:
        cert = run_certification(catalog, name, seed=seed)
    how = "sampled" if cert.sampled else "every input"
    console = _console()
    console.print(
        f"{name}: ", _certified(cert), f" on {cert.n_checked:,} inputs ({how})", sep="", highlight=False
    )
    for example in cert.counterexamples:
        console.print(f"  {name}{example['input']} = {example['got']}, expected {example['expected']}")


@catalog_app.command("export")
def export(
    paths: Annotated[list[str], typer.Argument(help="DIR (or CIRCUIT DIR).", metavar="[CIRCUIT] DIR")],
    names: Annotated[list[str] | None, typer.Option("--name", help="Only this circuit (repeatable).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="circ (manifest) | transformer-lens.")] = "circ",
    db: DbOpt = None,
) -> None:
    """Write circuits and their certificates as a manifest plus safetensors (the stdlib's format), or
    one circuit as a TransformerLens HookedTransformer (--format transformer-lens)."""
    from circ.learn.catalog import export_catalog

    if fmt != "circ":
        from circ.cli.interchange import export_other

        return export_other(fmt, paths, names, db)
    if len(paths) != 1:
        raise fail("export takes one DIR (or CIRCUIT DIR with --format transformer-lens)")
    directory = Path(paths[0])
    with _opened(db) as catalog:
        records = export_catalog(catalog, directory, names or None)
    _console().print(f"exported {len(records)} circuits to {directory}", highlight=False, markup=False)


@catalog_app.command("import")
def import_(
    directory: Annotated[Path, typer.Argument(help="A directory written by `circ catalog export`.")],
    db: DbOpt = None,
) -> None:
    """Register every circuit and certificate of an exported catalog (hash-checked first)."""
    from circ.learn.catalog import import_catalog

    with _opened(db) as catalog:
        result = import_catalog(catalog, directory)
    _console().print(
        f"imported {len(result.circuits)} circuits ({result.new} new) and {result.certificates} "
        f"certificates from {directory}",
        highlight=False,
        markup=False,
    )
