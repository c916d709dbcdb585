"""Catalogued circuits as a runtime `CircuitProvider`: what `circ run` and `circ verify` use.

The catalog hash-checks weights on every load; this adds the type check. A stored circuit is used
only when the types it was trained on (its signature and its model's token shapes) are the ones the
program declares, so a wrong circuit fails loudly instead of decoding tokens as the wrong type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from circ.circuit.config import ModelConfig
from circ.circuit.interface import CircuitInterface
from circ.circuit.provider import CircuitUnavailable, LoadedCircuit
from circ.circuit.signature import format_signature
from circ.lang import types as T
from circ.lang.errors import ConfigError
from circ.learn.catalog.certificates import PRECISIONS
from circ.learn.catalog.records import CatalogError
from circ.learn.store import StoreError

if TYPE_CHECKING:
    from circ.learn.catalog.catalog import Catalog
    from circ.learn.catalog.manifest import PackagedCatalog


class CatalogProvider:
    """`precision`: what every loaded network computes in (weights and activations), one of
    `PRECISIONS`; a bf16 run is trusted only as far as its circuits' bf16 certificates go."""

    def __init__(
        self, catalog: Catalog | PackagedCatalog, device: str = "cpu", precision: str = "fp32"
    ) -> None:
        if precision not in PRECISIONS:
            raise ConfigError("precision", f"must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        self.catalog = catalog
        self.device = device
        self.precision = precision

    def load(self, name: str, arg_types: tuple[T.Type, ...], out_type: T.Type) -> LoadedCircuit:
        from circ.learn.model import DTYPES  # torch, only once a network loads

        interface = CircuitInterface(tuple(arg_types), out_type)
        declared = format_signature(arg_types, out_type)
        try:
            record = self.catalog.get(name)
            if record.signature.startswith("(") and record.signature != declared:
                raise CircuitUnavailable(
                    f"circuit `{name}` was trained as {record.signature}, but is declared {declared}"
                )
            ModelConfig.from_dict(record.config).check_interface(interface)
            model = self.catalog.load_model(name, device=self.device).to(DTYPES[self.precision])
        except ConfigError as exc:
            message = f"circuit `{name}` does not fit its declaration {declared}: {exc}"
            raise CircuitUnavailable(message) from None
        except (CatalogError, StoreError) as exc:
            raise CircuitUnavailable(str(exc)) from None
        return LoadedCircuit(interface, model)


def circuit_config(catalog: Catalog, name: str) -> ModelConfig:
    """A circuit's model sizes from its record, without loading weights or torch (code generation)."""
    try:
        return ModelConfig.from_dict(catalog.get(name).config)
    except (CatalogError, ConfigError) as exc:
        raise CircuitUnavailable(str(exc)) from None
