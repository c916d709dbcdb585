"""Which circuits a program uses have no weights in the catalog? Asked before a run (one located
error for each, all at once, instead of a bare "unknown circuit" for the first) and by `circ check`
(as warnings: the program is well typed, it just cannot run here yet)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from circ.lang.ast import Span
from circ.lang.check import Checked
from circ.lang.diagnostics import Diagnostic, did_you_mean, error, warning
from circ.lang.scope import Symbol

if TYPE_CHECKING:
    from circ.learn.catalog import Catalog, PackagedCatalog


def circuit_sites(checked: Checked) -> list[tuple[Span, Symbol]]:
    """Each use (in the root file) of a circuit, and each circuit the root file declares."""
    root = checked.program.root
    sites = [(n.span, s) for n, s in checked.callees.items() if s.kind == "circuit" and n.span.path == root]
    return sites + [(s.decl.span, s) for s in checked.symbols() if s.kind == "circuit"]


def packaged_backs_all(checked: Checked, packaged: PackagedCatalog) -> bool:
    """Does the read-only stdlib alone hold every circuit the program uses? Then `circ check` need not
    open the database (nor import SQLAlchemy, 0.3 s): a user's own version would only shadow it."""
    from circ.learn.catalog import CatalogError

    try:
        for _, symbol in circuit_sites(checked):
            packaged.get(symbol.decl.learned)
    except CatalogError:
        return False  # not shipped (or the manifest is damaged): the full catalog answers
    return True


def unbacked(
    checked: Checked, catalog: Catalog | PackagedCatalog, severity: str = "warning"
) -> list[Diagnostic]:
    """A diagnostic at each of `circuit_sites` whose `learned` name the catalog lacks."""
    from circ.learn.catalog import CatalogError

    sites = circuit_sites(checked)
    known: dict[str, bool] = {}
    names: list[str] | None = None
    found = []
    make = error if severity == "error" else warning
    for span, symbol in sorted(sites, key=lambda site: (site[0].line, site[0].column)):
        learned = symbol.decl.learned
        if learned not in known:
            try:
                catalog.get(learned)
                known[learned] = True
            except CatalogError:
                known[learned] = False
        if known[learned]:
            continue
        if names is None:
            names = [r.name for r in catalog.circuits()]
        notes = did_you_mean(learned.split("@")[0], names)
        found.append(
            make(span, f'`{symbol.name}` has no weights in the catalog (learned "{learned}")', *notes)
        )
    return found
