"""Circuit certification (DESIGN §6.1): run a circuit on its whole finite domain — or, past
`EXHAUSTIVE_LIMIT` inputs, on a seeded sample, reported as sampled — and compare every answer with
the task's reference function. A program is only as trustworthy as its least accurate circuit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from circ.lang.errors import ConfigError
from circ.lang.layout import format_value, unflatten
from circ.lang.types import Type
from circ.learn.catalog import MAX_COUNTEREXAMPLES, Catalog, CatalogError, CertificateRecord
from circ.learn.data import task_from_key
from circ.learn.data.domain import MAX_ENUMERATE, enumerate_inputs, sample_inputs
from circ.learn.data.split import examples
from circ.learn.data.task import Task
from circ.learn.data.tokens import decode_outputs

EXHAUSTIVE_LIMIT = min(10**7, MAX_ENUMERATE)  # DESIGN: ≤10^7; the data layer enumerates up to 2^22
SAMPLE_SIZE = 10**6
BATCH = 1 << 15


@dataclass(frozen=True)
class Certification:
    domain_size: int
    n_checked: int
    sampled: bool
    accuracy: float
    counterexamples: tuple[dict[str, str], ...]


@torch.no_grad()
def certify_model(
    task: Task, model: torch.nn.Module, *, seed: int = 0, sample: int = SAMPLE_SIZE
) -> Certification:
    """Every input (or a seeded sample) through `model`, batched; wrong answers become counterexamples."""
    sampled = task.domain_size > EXHAUSTIVE_LIMIT
    inputs = sample_inputs(task, sample, np.random.default_rng(seed)) if sampled else enumerate_inputs(task)
    x, y = examples(task, inputs)
    wrong_rows: list[np.ndarray] = []
    predictions: list[np.ndarray] = []
    n_wrong = 0
    for start in range(0, x.shape[0], BATCH):
        tokens = torch.from_numpy(x[start : start + BATCH])
        predicted = model(tokens).argmax(dim=-1).numpy()
        miss = (predicted != y[start : start + BATCH]).any(axis=1)
        if miss.any() and sum(len(w) for w in wrong_rows) < MAX_COUNTEREXAMPLES:
            wrong_rows.append(np.flatnonzero(miss) + start)
            predictions.append(predicted[miss])
        n_wrong += int(miss.sum())
    n = x.shape[0]
    rows = np.concatenate(wrong_rows)[:MAX_COUNTEREXAMPLES] if wrong_rows else np.array([], dtype=np.int64)
    got = np.concatenate(predictions)[:MAX_COUNTEREXAMPLES] if predictions else None
    counterexamples = tuple(_counterexample(task, inputs, y, got[i], int(row)) for i, row in enumerate(rows))
    domain = n if not sampled else task.domain_size
    return Certification(domain, n, sampled, (n - n_wrong) / n, counterexamples)


def _counterexample(task: Task, inputs: list[np.ndarray], y: np.ndarray, got: np.ndarray, row: int) -> dict:
    iface = task.interface
    args = ", ".join(format_value(_value(t, a[row])) for t, a in zip(task.arg_types, inputs, strict=True))
    expected = _value(task.out_type, decode_outputs(iface, y[row : row + 1])[0])
    answered = _value(task.out_type, decode_outputs(iface, got[None])[0])
    return {"input": f"({args})", "expected": format_value(expected), "got": format_value(answered)}


def _value(t: Type, flat: np.ndarray) -> object:
    return unflatten(t, [int(v) for v in np.atleast_1d(flat)])


def certify(catalog: Catalog, ref: str, *, seed: int = 0, sample: int = SAMPLE_SIZE) -> CertificateRecord:
    """Certify a catalogued circuit against its task's reference and record the certificate."""
    record = catalog.get(ref)
    try:
        task = task_from_key(record.task)
    except ConfigError as exc:  # the reference to check against is the task's: no task, no certificate
        raise CatalogError(
            f"circuit {ref!r} names task {record.task!r}, which cannot be certified: {exc}"
        ) from None
    result = certify_model(task, catalog.load_model(ref), seed=seed, sample=sample)
    return catalog.add_certificate(
        ref,
        domain_size=result.domain_size,
        n_checked=result.n_checked,
        sampled=result.sampled,
        accuracy=result.accuracy,
        counterexamples=result.counterexamples,
    )
