"""The circuit catalog (DESIGN §7): trained circuits, their certificates, runs and extractions.

    from circ.learn.catalog import Catalog
    with Catalog(db_url, blob_dir, packaged=stdlib_catalog_dir) as catalog:
        record = catalog.get("mod97.add")           # user database first, then the packaged stdlib
        weights = catalog.load_weights("mod97.add")  # safetensors bytes, hash-checked

Modules: `records` (what callers get back, errors), `schema` (tables, migrations), `manifest` (the
export format the stdlib ships in), `catalog` (the `Catalog` itself), `exchange` (export / import),
`provider` (catalogued circuits as a runtime `CircuitProvider`; imports torch).
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from circ.learn.catalog.catalog import Catalog, inspect_weights
    from circ.learn.catalog.certificates import (
        MAX_COUNTEREXAMPLES,
        CertificateRecord,
        Certification,
        Sample,
    )
    from circ.learn.catalog.exchange import export_catalog, import_catalog
    from circ.learn.catalog.manifest import PackagedCatalog
    from circ.learn.catalog.records import (
        CatalogError,
        CircuitRecord,
        ExtractionRecord,
        ImportResult,
        TrainingRunRecord,
        UnknownCircuitError,
        parse_ref,
    )
    from circ.learn.catalog.schema import SCHEMA_VERSION
    from circ.learn.store import StoreError

_HOMES = {
    "Catalog": "circ.learn.catalog.catalog",
    "CatalogError": "circ.learn.catalog.records",
    "CertificateRecord": "circ.learn.catalog.certificates",
    "Certification": "circ.learn.catalog.certificates",
    "CircuitRecord": "circ.learn.catalog.records",
    "ExtractionRecord": "circ.learn.catalog.records",
    "ImportResult": "circ.learn.catalog.records",
    "MAX_COUNTEREXAMPLES": "circ.learn.catalog.certificates",
    "PackagedCatalog": "circ.learn.catalog.manifest",
    "SCHEMA_VERSION": "circ.learn.catalog.schema",
    "Sample": "circ.learn.catalog.certificates",
    "StoreError": "circ.learn.store",
    "TrainingRunRecord": "circ.learn.catalog.records",
    "UnknownCircuitError": "circ.learn.catalog.records",
    "export_catalog": "circ.learn.catalog.exchange",
    "import_catalog": "circ.learn.catalog.exchange",
    "inspect_weights": "circ.learn.catalog.catalog",
    "parse_ref": "circ.learn.catalog.records",
}

__all__ = [
    "MAX_COUNTEREXAMPLES",
    "SCHEMA_VERSION",
    "Catalog",
    "CatalogError",
    "CertificateRecord",
    "Certification",
    "CircuitRecord",
    "ExtractionRecord",
    "ImportResult",
    "PackagedCatalog",
    "Sample",
    "StoreError",
    "TrainingRunRecord",
    "UnknownCircuitError",
    "export_catalog",
    "import_catalog",
    "inspect_weights",
    "parse_ref",
]


def __getattr__(name: str) -> Any:
    """Names are imported on first use (PEP 562): the manifest reader alone needs no SQLAlchemy,
    which costs ~0.3 s to import, so `circ check` of a stdlib-only program never loads it."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
