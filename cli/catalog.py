"""`circ catalog list|show|certify|add|declare|export|import`: thin typer commands over `circ.learn.catalog`
(and `circ.register` for trained models; the TransformerLens format is in cli/interchange.py).

Errors a user can cause (an unknown circuit, a database URL that cannot be opened, a corrupted or
missing weights file, a malformed manifest) print one line, `error: …`, and exit 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
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


def _certified(cert: CertificateRecord | None, weights_sha256: str | None = None) -> Text:
    """The method and accuracy (rounded down); a certificate for other weights says so."""
    from circ.cli.show_verify import certificate_text

    if cert is None:
        return Text("—", style="dim")
    if weights_sha256 is not None and cert.weights_sha256 != weights_sha256:
        return Text("for other weights", style="red")
    return certificate_text(cert)


def certificate_lines(cert: CertificateRecord) -> list[str]:
    """What a certificate holds for and how it was obtained, one fact a line."""
    covered = f"{cert.n_checked:,}" if cert.n_checked is not None else "an unknown number"
    how = {"exhaustive": "inputs run", "bounds": "inputs proved", "sampled": "sampled inputs run"}[
        cert.method
    ]
    lines = [f"{covered} of {cert.domain_size:,} {how}, {cert.created.isoformat(timespec='seconds')}"]
    weights = (cert.weights_sha256 or "unrecorded")[:12]
    lines.append(f"holds for weights {weights}… in {cert.precision} on {cert.backend}")
    if cert.min_margin is not None:
        lines.append(f"smallest logit margin {cert.min_margin:.4g}")
    if cert.seconds is not None:
        lines.append(f"took {cert.seconds:.2f} s")
    for sample in cert.samples:
        lines.append(
            f"{sample.name}: {sample.errors:,} wrong of {sample.n:,}, error rate ≤ {sample.upper95:.2g} (95%)"
        )
    if cert.sampled and not cert.samples:
        lines.append("no per-distribution record (from before schema 3): no error bound; certify again")
    if cert.uncovered:
        lines.append(f"{len(cert.uncovered)} input region(s) the proof could not close")
    return lines


@catalog_app.command("list")
def list_(db: DbOpt = None) -> None:
    """Every catalogued circuit (newest version of each), with its certified accuracy."""
    console = _console()
    with _opened(db) as catalog:
        records = catalog.circuits()
        table = _circuit_table(catalog, records, wide=console.width >= WIDE_TABLE)
    console.print(table)
    console.print(f"{len(records)} circuit{'' if len(records) == 1 else 's'}", highlight=False)


WIDE_TABLE = 110  # columns from which `circ catalog list` shows the task and source columns too


def _circuit_table(catalog: Catalog, records: list, wide: bool) -> Table:
    """Names never break (they are what one copies); a narrow terminal drops the task and the source
    (`circ catalog show NAME` has them) rather than folding every cell into three lines."""
    table = Table(
        title="circ catalog", header_style="bold", box=box.HEAVY_HEAD if wide else None, pad_edge=wide
    )
    table.add_column("name", no_wrap=True)
    if wide:
        table.add_column("version", justify="right")
    table.add_column("signature", overflow="fold")
    if wide:
        table.add_column("task", overflow="fold")
    table.add_column("params", justify="right", no_wrap=True)
    table.add_column("certificate", no_wrap=True)
    if wide:
        table.add_column("source")
    for r in records:
        params = f"{r.n_params:,}" if r.n_params is not None else "?"
        certified = _certified(catalog.latest_certificate(r.ref), r.weights_sha256)
        if wide:
            table.add_row(
                Text(r.name), str(r.version), Text(r.signature), Text(r.task), params, certified, r.source
            )
        else:
            table.add_row(Text(r.ref), Text(r.signature), params, certified)
    if not wide:
        table.caption = "task and source: `circ catalog show NAME`, or a wider terminal"
    return table


@catalog_app.command()
def show(name: NameArg, db: DbOpt = None) -> None:
    """One circuit in full: signature, contract, model config, weights file and latest certificate."""
    with _opened(db) as catalog:
        record = catalog.get(name)
        versions = [v.version for v in catalog.versions(record.name)]
        cert = catalog.latest_certificate(record.ref)
        half = catalog.latest_certificate(record.ref, precision="bf16")  # for `--precision bf16`
        path = catalog.weights_path(record)
        runs = catalog.training_runs(record.ref) if record.id is not None else []
        extractions = catalog.extractions(record.ref)
        from circ.cli.show_extract import derived_from  # a pruned or transcoder circuit names its parent

        parent = derived_from(catalog.load_weights(record.ref))
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
        *([("derived from", parent)] if parent else []),
    ]
    for key, value in rows:
        info.add_row(key, Text(value))
    mechanisms = [e for e in extractions if isinstance(e.summary, dict) and e.summary.get("headline")]
    for e in mechanisms:  # mechanism summaries (`circ analyse --record`)
        info.add_row("mechanism", Text(f"{e.summary['headline']} ({e.method})"))
    for label, held in (("certificate", cert), ("certificate (bf16)", half)):
        if held is None and label != "certificate":
            continue  # a missing fp32 certificate is shown as missing; a missing bf16 one is not shown
        info.add_row(label, _certified(held, record.weights_sha256))
        for line in certificate_lines(held) if held is not None else ():
            info.add_row("", Text(line))
    console = _console()
    console.print(info)
    if cert is not None and cert.counterexamples:
        table = Table(title=f"counterexamples (first {len(cert.counterexamples)})", header_style="bold")
        table.add_column("#", justify="right")
        table.add_column("counterexample")
        for i, example in enumerate(cert.counterexamples):
            table.add_row(str(i), Text(json.dumps(example)))
        console.print(table)
    from circ.cli.show_extract import extractions_view  # pruned / transcoder circuits, labels, graphs

    others = [e for e in extractions if e not in mechanisms]
    if (view := extractions_view(others)) is not None:
        console.print(view)


@catalog_app.command()
def certify(
    name: NameArg,
    seed: Annotated[int, typer.Option(help="Seed of the sample, for domains too big to enumerate.")] = 0,
    precision: Annotated[str, typer.Option(help="fp32, or bf16 (weights and activations)")] = "fp32",
    db: DbOpt = None,
) -> None:
    """Run a circuit on its whole domain (or seeded samples of 10^6 from named distributions) against
    its task's reference, and record the certificate."""
    from circ.verify.certify import certify as run_certification

    with _opened(db) as catalog:
        cert = run_certification(catalog, name, seed=seed, precision=precision)
    console = _console()
    console.print(f"{name}: ", _certified(cert), sep="", highlight=False)
    for line in certificate_lines(cert):
        console.print(f"  {line}", highlight=False, markup=False)
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
    shadow: Annotated[
        bool, typer.Option(help="Allow circuits that hide a shipped stdlib circuit of the same name.")
    ] = False,
    db: DbOpt = None,
) -> None:
    """Register every circuit and certificate of an exported catalog (hash-checked and checked against
    their records first; name@version pins are kept, never renumbered)."""
    from circ.learn.catalog import import_catalog

    with _opened(db) as catalog:
        result = import_catalog(catalog, directory, shadow=shadow)
    _console().print(
        f"imported {len(result.circuits)} circuits ({result.new} new) and {result.certificates} "
        f"certificates from {directory}",
        highlight=False,
        markup=False,
    )


@catalog_app.command("add")
def add(
    run: Annotated[Path, typer.Argument(help="The --out folder of `circ train`, or one run in it.")],
    name: Annotated[
        str | None, typer.Option(help="Catalog name to register it under, e.g. my.add.", show_default=False)
    ] = None,
    member: Annotated[
        str | None, typer.Option(help="Which run of a folder holding several: its index or its name.")
    ] = None,
    source: Annotated[
        str, typer.Option("--from", help="What RUN is: circ (a `circ train` run) | transformer-lens.")
    ] = "circ",
    task: Annotated[
        str | None, typer.Option(help="transformer-lens: the task it computes (default: circ.json's).")
    ] = None,
    contract: Annotated[
        str | None, typer.Option(help="transformer-lens: contract clauses, e.g. 'ensures result == …'.")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Register a model trained by `circ train` (its config, task and signature checked against the
    weights), with its task's contract where one is known; or, with --from transformer-lens, a
    one-layer HookedTransformer directory (then certified on its task)."""
    from circ.register import find_weights, read_trained, register

    if source != "circ":
        from circ.cli.interchange import add_other

        return add_other(source, run, name=name, task=task, contract=contract, db=db)
    if name is None:
        raise fail("name: required for a `circ train` run (--name my.add)")
    with _opened(db) as catalog:
        registered = register(catalog, read_trained(find_weights(run, member)), name)
    show_registered(_console(), registered)


@catalog_app.command()
def declare(
    name: NameArg,
    as_: Annotated[str | None, typer.Option("--as", help="The circuit's name in the program.")] = None,
    db: DbOpt = None,
) -> None:
    """Print the `circuit … learned "…";` declaration of a catalogued circuit, to paste into a program."""
    from circ.register import declare as declaration

    with _opened(db) as catalog:
        text, comment = declaration(catalog, name, as_)
    typer.echo(f"{comment}\n{text}")


def show_registered(console: Console, registered) -> None:
    """What `circ catalog add` and `circ train --register` did, and how to use it next."""
    record = registered.record
    console.print(
        f"registered {record.ref}: {record.signature}, task {record.task}, from {registered.model.path}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    contract = registered.contract
    if contract is not None:
        console.print(
            f"  contract (checked on {contract.checked_on}): {contract.text}", markup=False, soft_wrap=True
        )
    if registered.certificate is not None:
        cert = registered.certificate
        covered = certificate_lines(cert)[0].split(", ")[0]  # "100 of 100 inputs run"
        shown = Text.assemble("  certificate: ", _certified(cert, record.weights_sha256), f" ({covered})")
        console.print(shown, highlight=False)
    console.print(f"  next: circ catalog declare {record.name} >> your.circ", markup=False, highlight=False)
