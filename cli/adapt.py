"""`circ adapt PARENT TASK`: specialise a catalogued circuit to a related task with LoRA (peft).

A thin typer command over `circ.adapt.adapt_circuit`: live progress per seed, then a table of the
seeds and the registered circuit with its certificate. Errors a user can cause print one line.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from circ.cli.catalog import DbOpt
from circ.cli.edge import user_errors
from circ.lang.errors import ConfigError


def adapt_command(
    parent: Annotated[str, typer.Argument(help="Catalogued circuit to start from (NAME or NAME@VERSION).")],
    task: Annotated[str, typer.Argument(help="Related task, e.g. mod_sub (parameters from the parent's).")],
    rank: Annotated[int, typer.Option(help="LoRA rank of each adapted module.")] = 8,
    targets: Annotated[
        str | None,
        typer.Option(
            help="Modules to adapt, comma-separated, of q,k,v,o,fc_in,fc_out,embed,pos_embed,unembed "
            "(default: the projections and pos_embed).",
            show_default=False,
        ),
    ] = None,
    seeds: Annotated[int, typer.Option(help="Adapters trained at once (a vmap ensemble).")] = 1,
    steps: Annotated[int, typer.Option(help="Maximum optimiser steps.")] = 3000,
    lr: Annotated[float, typer.Option(help="AdamW learning rate.")] = 1e-2,
    wd: Annotated[float, typer.Option("--wd", help="AdamW weight decay (pulls adapters to zero).")] = 1.0,
    eval_every: Annotated[int, typer.Option(help="Steps between evaluations.")] = 25,
    name: Annotated[str | None, typer.Option(help="Name to register (default: PARENT.lora.TASK).")] = None,
    threads: Annotated[int, typer.Option(help="torch CPU threads.")] = 1,
    db: DbOpt = None,
) -> None:
    """Train LoRA adapters of PARENT for TASK until right on the whole domain; register the merged
    circuit (certified), keep the adapter as a `lora` extraction of the parent."""
    import torch

    from circ.adapt import CHECK_SAMPLE, adapt_circuit
    from circ.cli.show_verify import certificate_text, percent
    from circ.cli.train_progress import training_progress
    from circ.learn.adapt import AdaptOptions, FitOptions, LoraOptions
    from circ.settings import Settings
    from circ.verify.certify import EXHAUSTIVE_LIMIT

    console = Console(soft_wrap=True)
    with user_errors():
        if threads < 1:
            raise ConfigError("threads", f"must be >= 1, got {threads}")
        torch.set_num_threads(threads)
        options = AdaptOptions(
            lora=LoraOptions(rank=rank, **({} if targets is None else {"targets": _names(targets)})),
            fit=FitOptions(lr=lr, weight_decay=wd, steps=steps, eval_every=eval_every),
            seeds=seeds,
        )
        with Settings.from_env(db=db).open_catalog() as catalog, training_progress(console) as on_eval:
            done = adapt_circuit(catalog, parent, task, options, name=name, on_eval=on_eval)
    a = done.adaptation
    whole = a.task.domain_size <= EXHAUSTIVE_LIMIT
    table = Table(title=f"LoRA rank {rank} on {done.parent.ref} → {a.task.key}", header_style="bold")
    for col in ("seed", "steps", "whole domain" if whole else f"sample of {CHECK_SAMPLE:,}", "wall"):
        table.add_column(col, justify="right")
    for m in a.members:
        last = m.checks[-1][1] if m.checks else None
        check = "100%" if m.reached else ("—" if last is None else f"{percent(last)} (stopped)")
        table.add_row(str(m.index), str(m.steps), check, f"{m.wall_s:.1f} s")
    console.print(table)
    cert = done.certificate
    how = f"all {cert.domain_size:,} inputs"
    if cert.sampled:
        how = f"a seeded sample of {cert.n_checked:,} of {cert.domain_size:,} inputs"
    word = "certified" if cert.certified else "NOT certified"
    console.print(
        f"registered {done.child.ref} ({done.child.signature}): {word}, ",
        certificate_text(cert),
        f" on {how}; adapter kept as extraction #{done.extraction.id} (lora) of {done.parent.ref}",
        sep="",
        highlight=False,
        markup=False,
    )


def _names(targets: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in targets.split(",") if name.strip())
