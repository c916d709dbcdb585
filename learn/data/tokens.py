"""Raw values ↔ model tokens for numpy arrays, by the circuit interface's one layout
(`circ.circuit.interface`: leaves then `n_out` zeros, minus `shift`)."""

from __future__ import annotations

import numpy as np

from circ.circuit.interface import CircuitInterface
from circ.lang.types import width


def encode_inputs(iface: CircuitInterface, args: list[np.ndarray]) -> np.ndarray:
    """Raw argument values (`[N, leaves_i]` each) → model input tokens `[N, n_positions]`."""
    n = args[0].shape[0] if args else 0
    raw = np.concatenate([*args, np.zeros((n, iface.n_out), dtype=np.int64)], axis=1)
    return raw.astype(np.int64) - np.array(iface.shift, dtype=np.int64)


def encode_outputs(iface: CircuitInterface, out: np.ndarray) -> np.ndarray:
    """Raw output values `[N, n_out]` → target tokens `[N, n_out]`."""
    return out.astype(np.int64) - np.array(iface.out_lows, dtype=np.int64)


def decode_outputs(iface: CircuitInterface, tokens: np.ndarray) -> np.ndarray:
    """Argmax tokens `[N, n_out]` → raw output values."""
    return tokens.astype(np.int64) + np.array(iface.out_lows, dtype=np.int64)


def split_args(iface: CircuitInterface, tokens: np.ndarray) -> list[np.ndarray]:
    """Input tokens `[N, ≥n_in]` → raw argument values, one `[N, leaves_i]` array per argument."""
    values = tokens[:, : iface.n_in] + np.array(iface.in_lows, dtype=np.int64)
    out, at = [], 0
    for t in iface.arg_types:
        out.append(values[:, at : at + width(t)])
        at += width(t)
    return out
