"""`circ extract prune|transcoder|graph`: thin typer commands over `circ.learn.extract`, rendered with rich.

Each command opens the catalog, calls one library function with the runtime's `certify` (so every
circuit extraction registers carries the certificate `circ catalog certify` would give it), shows
progress while it works and a summary when it is done. Errors a user can cause print one line,
`error: …`, and exit 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from circ.cli.edge import user_errors

if TYPE_CHECKING:
    from circ.learn.catalog import Catalog

extract_app = typer.Typer(
    help="Extract what a circuit computes: prune it, fit transcoders, draw attribution graphs.",
    no_args_is_help=True,
)

CircuitArg = Annotated[str, typer.Argument(help="Circuit name, or NAME@VERSION.", show_default=False)]
DbOpt = Annotated[
    str | None, typer.Option("--db", help="Catalog database URL (default: $CIRC_DB).", show_default=False)
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Directory for the artefacts (default: extract/<circuit>).")
]


def _console() -> Console:
    return Console(soft_wrap=True)


@contextmanager
def _opened(db: str | None) -> Iterator[Catalog]:
    """The catalog; a library error inside becomes one `error:` line and exit code 1."""
    import torch

    from circ.settings import Settings

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small circuits: one thread is faster on a shared CPU (MEASURED.md)
    try:
        with user_errors(), Settings.from_env(db=db).open_catalog() as catalog:
            yield catalog
    except OSError as exc:  # --out not writable, or a file where a directory should be
        typer.echo(f"error: out: {exc.strerror}: {exc.filename}", err=True)
        raise typer.Exit(1) from None
    finally:
        torch.set_num_threads(threads)


def _certifier(catalog: Catalog):
    from circ.verify.certify import certify

    return lambda ref: certify(catalog, ref)


def _out(out: Path | None, name: str) -> Path:
    return out if out is not None else Path("extract") / name


@extract_app.command("prune")
def prune_command(
    circuit: CircuitArg,
    by: Annotated[str, typer.Option(help="Order of removal: magnitude | attribution.")] = "magnitude",
    ablation: Annotated[
        str, typer.Option(help="mean: fold removed units' mean output into biases; zero.")
    ] = "mean",
    weights: Annotated[
        bool, typer.Option("--weights/--no-weights", help="Also prune single weights.")
    ] = False,
    sparsity: Annotated[
        float | None, typer.Option(help="Fail unless at least this fraction of parameters ends up zero.")
    ] = None,
    min_margin: Annotated[float, typer.Option(help="Keep every logit margin at least this large.")] = 0.0,
    name: Annotated[
        str | None, typer.Option(help="Catalog name of the pruned circuit (default NAME.pruned).")
    ] = None,
    out: OutOpt = None,
    db: DbOpt = None,
) -> None:
    """Remove heads, neurons (and weights) while the circuit stays right on every input of its domain."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from circ.cli.show_extract import prune_view
    from circ.learn.extract.prune_circuit import PruneOptions, prune_circuit

    options = PruneOptions(by, ablation, weights, sparsity, min_margin, name)
    console = _console()
    with (
        _opened(db) as catalog,
        Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        ) as bar,
    ):
        task = bar.add_task(f"pruning {circuit}", total=None)

        def on_trial(trial) -> None:
            verdict = "kept" if trial.passed else "rejected"
            bar.update(
                task,
                description=f"pruning {circuit}: {trial.stage} −{trial.removed}/{trial.of} {verdict}",
            )

        report = prune_circuit(
            catalog,
            circuit,
            options,
            certify=_certifier(catalog),
            out=_out(out, circuit),
            on_trial=on_trial,
        )
    console.print(prune_view(report))


@extract_app.command("transcoder")
def transcoder_command(
    circuit: CircuitArg,
    features: Annotated[int | None, typer.Option(help="Features per layer (default 2 × d_mlp).")] = None,
    architecture: Annotated[str, typer.Option(help="standard (ReLU + L1) | topk.")] = "standard",
    k: Annotated[int | None, typer.Option(help="Features kept per position (topk).")] = None,
    cross_layer: Annotated[
        bool, typer.Option("--cross-layer", help="Features write to every later layer.")
    ] = False,
    steps: Annotated[int, typer.Option(help="Training steps.")] = 3000,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 3e-3,
    l1: Annotated[float, typer.Option(help="Sparsity penalty λ (standard).")] = 3e-3,
    kl: Annotated[float, typer.Option(help="Weight of KL(model ‖ replacement) on the logits.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the initialisation and the batches.")] = 0,
    name: Annotated[
        str | None, typer.Option(help="Catalog name of the replacement (default NAME.transcoder).")
    ] = None,
    out: OutOpt = None,
    db: DbOpt = None,
) -> None:
    """Fit sparse transcoders to the MLPs; check and register the replacement; label every feature."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from circ.cli.show_extract import transcoder_view
    from circ.learn.extract.train_transcoder import TrainOptions
    from circ.learn.extract.transcode_circuit import TranscoderOptions, transcode_circuit

    console = _console()
    with _opened(db) as catalog:
        train = TrainOptions(steps=steps, lr=lr, l1=l1, kl=kl, seed=seed)
        options = TranscoderOptions(features, architecture, k, cross_layer, train, name)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[loss]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as bar:
            task = bar.add_task(f"training transcoders of {circuit}", total=steps, loss="")

            def on_step(step: int, loss: float) -> None:
                bar.update(task, completed=step + 1, loss=f"loss {loss:.4f}")

            report = transcode_circuit(
                catalog,
                circuit,
                options,
                certify=_certifier(catalog),
                out=_out(out, circuit),
                arg_names=_arg_names(catalog, circuit),
                on_step=on_step,
            )
    console.print(transcoder_view(report))


@extract_app.command("graph")
def graph_command(
    circuit: CircuitArg,
    input: Annotated[
        list[str], typer.Option("--input", "-i", help="One argument value in circ syntax, in order (repeat).")
    ],
    transcoder: Annotated[
        int | None, typer.Option(help="Transcoder extraction id (default: newest).")
    ] = None,
    node_threshold: Annotated[float, typer.Option(help="Keep nodes carrying this share of influence.")] = 0.8,
    edge_threshold: Annotated[
        float, typer.Option(help="Keep edges carrying this share of influence.")
    ] = 0.98,
    out: OutOpt = None,
    db: DbOpt = None,
) -> None:
    """The attribution graph of one input (circuit-tracer JSON, PNG, SVG) and exact QK attributions."""
    from circ.cli.show_extract import graph_view
    from circ.learn.extract.graph_circuit import GraphOptions, graph_circuit

    console = _console()
    with _opened(db) as catalog:
        values = _values(catalog, circuit, input)
        options = GraphOptions(node_threshold, edge_threshold, transcoder=transcoder)
        with console.status(f"attributing {circuit} on {len(values)} input value(s)"):
            report = graph_circuit(catalog, circuit, values, options, out=_out(out, circuit))
    console.print(graph_view(report))


def _values(catalog: Catalog, circuit: str, texts: list[str]) -> list[object]:
    """`--input` texts → values checked against the circuit's argument types."""
    from circ.learn.data import task_from_key
    from circ.runtime.values import InputError, check_value, parse_text

    task = task_from_key(catalog.get(circuit).task)
    types = task.arg_types
    if len(texts) != len(types):
        listed = ", ".join(map(str, types))
        raise InputError(f"input: {circuit} takes {len(types)} argument(s) ({listed}), got {len(texts)}")
    return [
        check_value(f"input {i + 1}", t, parse_text(text))
        for i, (t, text) in enumerate(zip(types, texts, strict=True))
    ]


def _arg_names(catalog: Catalog, circuit: str) -> list[str] | None:
    """Argument names from the stdlib declaration of the circuit (or of the circuit it came from)."""
    from circ.stdlib_build import declarations

    record = catalog.get(circuit)
    found = declarations()
    for name in (record.name, record.name.rsplit(".", 1)[0]):
        if name in found:
            return [param for param, _ in found[name][0].signature.params]
    return None
