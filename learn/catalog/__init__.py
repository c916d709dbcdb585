"""The circuit catalog (DESIGN §7): trained circuits, their certificates, runs and extractions.

    from circ.learn.catalog import Catalog
    with Catalog(db_url, blob_dir, packaged=stdlib_catalog_dir) as catalog:
        record = catalog.get("mod97.add")           # user database first, then the packaged stdlib
        weights = catalog.load_weights("mod97.add")  # safetensors bytes, hash-checked

Modules: `records` (what callers get back, errors), `schema` (tables, migrations), `manifest` (the
export format the stdlib ships in), `catalog` (the `Catalog` itself), `exchange` (export / import),
`provider` (catalogued circuits as a runtime `CircuitProvider`; imports torch).
"""

from circ.learn.catalog.catalog import Catalog, inspect_weights, parse_ref
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
)
from circ.learn.catalog.schema import SCHEMA_VERSION
from circ.learn.store import StoreError

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
