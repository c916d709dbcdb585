"""`circ experiment depth`: a thin typer command over `circ.experiment.depth.run_experiment`.

Trains the monoliths (progress bars per vmap group), runs and verifies the composed programs, then
writes `result.json`, `depth.md` (the table and the thresholds note) and `depth.png` under `--out`
and prints the table. `--from-result` re-renders a saved `result.json` without running anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from circ.cli.edge import fail, user_errors

experiment_app = typer.Typer(
    help="Experiments: composed verified circuits against monolithic transformers.", no_args_is_help=True
)


def _seeds(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise fail(f"--seeds must be comma-separated integers, got {text!r}") from None


@experiment_app.command("depth")
def depth_command(
    quick: Annotated[
        bool, typer.Option("--quick", help="reduced settings that fit a CPU in under 30 minutes")
    ] = False,
    tiny: Annotated[
        bool, typer.Option("--tiny", help="seconds-long settings (smoke test, not a result)")
    ] = False,
    ray: Annotated[bool, typer.Option("--ray", help="train the monoliths' groups over Ray")] = False,
    ray_address: Annotated[str, typer.Option(help="local (start one), auto, or host:port")] = "local",
    seeds: Annotated[str | None, typer.Option(help="comma-separated seeds (default: the preset's)")] = None,
    out: Annotated[Path, typer.Option(help="folder for the result, table, plot and training output")] = Path(
        "experiment-depth"
    ),
    device: Annotated[str, typer.Option(help="torch device for training and running")] = "cpu",
    from_result: Annotated[
        Path | None, typer.Option(help="re-render this result.json instead of running the experiment")
    ] = None,
    db: Annotated[str | None, typer.Option(help="catalog database URL (default: $CIRC_DB)")] = None,
) -> None:
    """Composition depth 1–8 (Mod[97] affine, grid symmetry chains) and length (train n, test 4n):
    the composed .circ program on catalogued circuits vs a transformer with their parameters (and 4×)."""
    import json

    import torch

    from circ.cli.train_progress import training_progress
    from circ.experiment.config import FULL, QUICK, TINY
    from circ.experiment.depth import run_experiment
    from circ.experiment.report import table, thresholds_note, write_report
    from circ.experiment.results import ExperimentResult
    from circ.settings import Settings

    if quick and tiny:
        raise fail("--quick and --tiny are exclusive")
    torch.set_num_threads(1)  # many small models on a shared CPU: one thread each is faster
    err = Console(stderr=True, soft_wrap=True)
    with user_errors():
        if from_result is not None:
            try:
                result = ExperimentResult.from_json(json.loads(from_result.read_text()))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise fail(f"--from-result {from_result}: not a saved experiment result ({exc})") from None
        else:
            config = (TINY if tiny else QUICK if quick else FULL).with_options(seeds=_seeds(seeds))
            settings = Settings.from_env(db=db)
            with settings.open_catalog() as catalog, training_progress(err) as on_eval:
                result = run_experiment(
                    config,
                    catalog,
                    out,
                    device=device,
                    ray=ray_address if ray else None,
                    on_stage=lambda text: err.log(text),
                    on_eval=on_eval,
                )
        paths = write_report(result, out if from_result is None else from_result.parent)
    typer.echo(table(result))
    typer.echo("")
    typer.echo(thresholds_note(result))
    err.print(f"wrote {paths['result']}, {paths['table']}, {paths['plot']} ({result.wall_s / 60:.1f} min)")
