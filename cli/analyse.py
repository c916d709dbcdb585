"""`circ analyse RUN|CIRCUIT`: a thin typer command over `circ.learn.analyse`, rendered with rich.

RUN is a `circ train` output directory (every run in it, or `--run NAME`); anything else is a
catalogued circuit (`mod97.sub`, `NAME@VERSION`). Errors a user can cause print one `error:` line and
exit 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from circ.cli.edge import user_errors

if TYPE_CHECKING:
    from circ.learn.analyse.report import Report


def _console() -> Console:
    return Console(soft_wrap=True)


def analyse_command(
    target: Annotated[str, typer.Argument(help="A `circ train` output folder, or a catalogued circuit.")],
    out: Annotated[
        Path | None, typer.Option(help="Where to write JSON and PNGs [default: RUN/analysis, analysis/NAME].")
    ] = None,
    run: Annotated[str | None, typer.Option(help="Only this run of a RUN folder.")] = None,
    record: Annotated[
        bool, typer.Option(help="Store the summary as an `extraction` of the catalogued circuit.")
    ] = False,
    window: Annotated[int, typer.Option(help="Steps the spectrum must settle over to end clean-up.")] = 300,
    db: Annotated[str | None, typer.Option("--db", help="Catalog database URL (default: $CIRC_DB).")] = None,
) -> None:
    """Mechanism and learning dynamics: Fourier spectra, key frequencies, neuron clusters, restricted
    and excluded loss along training with its phases; attention and attribution for other circuits."""
    import torch

    from circ.lang.errors import ConfigError
    from circ.learn.analyse.report import analyse
    from circ.learn.analyse.sources import from_catalog, from_run_dir, is_run_dir
    from circ.settings import Settings

    torch.set_num_threads(1)  # small models: one thread is fastest and never oversubscribes a shared box
    console = _console()
    path = Path(target)
    with user_errors():
        if window < 1:
            raise ConfigError("window", f"must be >= 1, got {window}")
        if is_run_dir(path):
            if record:
                raise ConfigError("record", "records go with catalogued circuits; give a circuit name")
            base = out or path / "analysis"
            reports = []
            for subject in from_run_dir(path, run):
                with console.status(f"analysing {subject.name} ({len(subject.snapshots)} snapshots)…"):
                    reports.append(analyse(subject, base / subject.name, window))
        else:
            if run is not None:
                raise ConfigError("run", f"{target} is not a `circ train` folder (no runs.json)")
            with Settings.from_env(db=db).open_catalog() as catalog:
                subject = from_catalog(catalog, target)
                with console.status(f"analysing {subject.name}…"):
                    report = analyse(
                        subject, out or Path("analysis") / subject.name.replace("@", "-v"), window
                    )
                reports = [report]
                if record:
                    row = catalog.add_extraction(
                        subject.name, report.method, report.artefact(), report.catalog_summary()
                    )
                    console.print(
                        f"recorded extraction #{row.id} ({row.method}) for {row.circuit}@{row.version}"
                    )
    for report in reports:
        console.print(_report_table(report))


def _report_table(report: Report) -> Table:
    table = Table(title=f"{report.subject} ({report.task})", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("mechanism", Text(report.headline))
    s = report.summary
    if report.fourier is not None:
        f = report.fourier
        table.add_row("basis", f.basis.describe())
        table.add_row("key frequencies", " ".join(map(str, f.key_frequencies)) or "—")
        for name, spec in f.embed.items():
            top = ", ".join(f"{k} ({spec.shares[k - 1]:.0%})" for k in spec.ranked()[:6])
            table.add_row(f"embedding, {name}", f"{spec.frequencies_for(0.9)} frequencies for 90%; top {top}")
        if f.neurons is not None:
            clusters = ", ".join(f"{k}: {n}" for k, n in list(f.neurons.counts().items())[:8])
            table.add_row("neurons", f"{f.neurons.single().mean():.0%} single-frequency; clusters {clusters}")
        if f.ablation is not None:
            ab = f.ablation
            table.add_row(
                "loss",
                f"full {ab.full_loss:.4f}, restricted {ab.restricted_loss:.4f} "
                f"({ab.restricted_acc:.1%} right), excluded {ab.excluded_loss:.3f} on {ab.excluded_on} "
                f"({ab.excluded_acc:.1%} right); chance {ab.chance_loss:.3f}",
            )
    if "attribution" in s:
        a = s["attribution"]
        table.add_row("reads", " ".join(f"{j}←{i}" for j, i in enumerate(a["reads"])))
    if report.phases is not None:
        spans = "; ".join(f"{name} {start}–{end}" for name, start, end in report.phases.spans())
        done = "" if report.phases.cleaned is not None else " (clean-up not over by the last step)"
        table.add_row("phases", spans + done)
        table.add_row(
            "steps to 99%",
            f"train {report.phases.memorised if report.phases.memorised is not None else '—'}, "
            f"val {report.phases.generalised if report.phases.generalised is not None else '—'}",
        )
    table.add_row("files", Text("\n".join(str(p) for p in report.files)))
    return table
