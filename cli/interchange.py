"""`circ catalog export CIRCUIT --format transformer-lens DIR` and `circ catalog add --from
transformer-lens DIR` (called from cli/catalog.py): thin commands over `circ.learn.interchange.tl_directory`.

An added circuit is certified at once (`circ.verify.certify`), so its accuracy on the task it claims
is known before any program relies on it.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from circ.cli.catalog import _certified, _opened
from circ.cli.edge import fail

FORMATS = ("circ", "transformer-lens")


def export_other(fmt: str, paths: list[str], names: list[str] | None, db: str | None) -> None:
    """`circ catalog export` for a format other than circ's own manifest."""
    if fmt not in FORMATS:
        raise fail(f"format: must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if len(paths) != 2 or names:
        raise fail("export --format transformer-lens takes CIRCUIT DIR (one circuit, no --name)")
    from circ.learn.interchange.tl_directory import export_transformer_lens

    circuit, directory = paths
    with _opened(db) as catalog:
        record = export_transformer_lens(catalog, circuit, directory)
    Console(soft_wrap=True).print(
        f"exported {record.ref} to {directory} as a TransformerLens HookedTransformer "
        "(config.json, model.safetensors, circ.json)",
        highlight=False,
        markup=False,
    )


def add_other(
    source: str, directory: Path, name: str | None, task: str | None, contract: str | None, db: str | None
) -> None:
    """Register a model trained in another tool as a circuit, then certify it on its task."""
    if source != "transformer-lens":
        raise fail(f"from: must be circ or transformer-lens, got {source!r}")
    from circ.learn.interchange.tl_directory import add_from_transformer_lens
    from circ.verify.certify import certify

    with _opened(db) as catalog:
        record = add_from_transformer_lens(catalog, directory, name=name, task=task, contract=contract)
        cert = certify(catalog, record.ref)
    how = "sampled" if cert.sampled else "every input"
    Console(soft_wrap=True).print(
        f"added {record.ref} ({record.signature}, task {record.task}): ",
        _certified(cert),
        f" on {cert.n_checked:,} inputs ({how})",
        sep="",
        highlight=False,
        markup=False,
    )
