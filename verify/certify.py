"""Circuit certification (DESIGN §6.1): a circuit against its task's reference function.

`exhaustive` when the domain can be listed (up to `EXHAUSTIVE_LIMIT` inputs): every input runs, and
the certificate is exact. Otherwise `bounds` when the bound-propagation prover (`verify.bounds`)
closes on every input: a sound proof over the whole domain. Failing that, `sampled`: seeded draws
from each named input distribution (for grids the ARC-like ones, a small support listed whole), from
a seed stream of their own (never the training one) with the training inputs removed, each reported
with its error count and a 95% Clopper–Pearson upper bound — never called certified. Either way
the certificate names the weights (sha256), precision and backend it was computed with, and the
smallest logit margin it saw (for `bounds`, the proved lower bound).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from circ.lang import types as T
from circ.lang.errors import ConfigError
from circ.lang.layout import format_value, unflatten
from circ.lang.types import Type
from circ.learn.catalog import (
    MAX_COUNTEREXAMPLES,
    Catalog,
    CatalogError,
    CertificateRecord,
    Certification,
    Sample,
)
from circ.learn.data import distributions as dist
from circ.learn.data import task_from_key
from circ.learn.data.domain import MAX_ENUMERATE, enumerate_inputs, sample_inputs
from circ.learn.data.split import examples
from circ.learn.data.task import Task
from circ.learn.data.tokens import decode_outputs
from circ.learn.model import DTYPES
from circ.runtime.torch_backend import NETWORK_ROWS, attention
from circ.verify.statistics import upper_bound

EXHAUSTIVE_LIMIT = min(10**7, MAX_ENUMERATE)  # DESIGN: ≤10^7; the data layer enumerates up to 2^22
SAMPLE_SIZE = 10**6  # draws in all, shared among the distributions
PROOF_SECONDS = 600.0  # a bounds proof that has not closed by then is reported; the sample decides
BATCH = NETWORK_ROWS  # the rows of one network pass at run time, through the same attention path
SALT = 0x5EED_CE27  # certification samples come from their own seed stream, disjoint from training seeds

Sampler = Callable[[Task, int, np.random.Generator], list[np.ndarray]]


@dataclass(frozen=True)
class Checked:
    """One batch of inputs through the model: how many, how many wrong, the least margin, examples."""

    n: int
    wrong: int
    min_margin: float
    counterexamples: tuple[dict[str, str], ...]


@torch.no_grad()
def run_inputs(
    task: Task, model: torch.nn.Module, inputs: list[np.ndarray], precision: str = "fp32"
) -> Checked:
    """`inputs` through `model` in batches, against the task's reference: in `precision`, in passes
    as large as the runtime's and on the attention path it takes, so the certificate is about the
    computation that runs (the fp32 ones shipped before issue 19 were computed on SDPA; see
    benchmarks/attention_paths.py)."""
    x, y = examples(task, inputs)
    dtype = DTYPES[precision]
    model = copy.deepcopy(model).to(dtype) if dtype != torch.float32 else model
    options = attention(model, next((p.device for p in model.parameters()), torch.device("cpu")))
    wrong_rows: list[np.ndarray] = []
    predictions: list[np.ndarray] = []
    n_wrong, margin = 0, float("inf")
    for start in range(0, x.shape[0], BATCH):
        logits = model(torch.from_numpy(x[start : start + BATCH]), **options).float()  # [rows, n_out, vocab]
        target = torch.from_numpy(y[start : start + BATCH])
        right = logits.gather(-1, target[..., None])[..., 0]
        others = logits.scatter(-1, target[..., None], float("-inf")).amax(-1)
        margin = min(margin, float((right - others).min()))
        predicted = logits.argmax(dim=-1).numpy()
        miss = (predicted != y[start : start + BATCH]).any(axis=1)
        if miss.any() and sum(len(w) for w in wrong_rows) < MAX_COUNTEREXAMPLES:
            wrong_rows.append(np.flatnonzero(miss) + start)
            predictions.append(predicted[miss])
        n_wrong += int(miss.sum())
    rows = np.concatenate(wrong_rows)[:MAX_COUNTEREXAMPLES] if wrong_rows else np.array([], dtype=np.int64)
    got = np.concatenate(predictions)[:MAX_COUNTEREXAMPLES] if predictions else None
    examples_ = tuple(_counterexample(task, inputs, y, got[i], int(row)) for i, row in enumerate(rows))
    return Checked(x.shape[0], n_wrong, margin, examples_)


def certify_model(
    task: Task,
    model: torch.nn.Module,
    *,
    weights_sha256: str,
    seed: int = 0,
    sample: int = SAMPLE_SIZE,
    precision: str = "fp32",
    distributions: Mapping[str, Sampler] | None = None,
    training: list[np.ndarray] | None = None,
) -> Certification:
    """Every input, or `sample` seeded draws shared among `distributions` (default: uniform) with the
    `training` inputs (when known) removed from them."""
    start = time.perf_counter()
    if task.domain_size <= EXHAUSTIVE_LIMIT:
        found = run_inputs(task, model, enumerate_inputs(task), precision)
        return Certification(
            method="exhaustive",
            domain_size=found.n,
            n_checked=found.n,
            accuracy=(found.n - found.wrong) / found.n,
            weights_sha256=weights_sha256,
            precision=precision,
            min_margin=found.min_margin,
            seconds=time.perf_counter() - start,
            counterexamples=list(found.counterexamples),
        )
    if precision == "fp32" and distributions is None:
        proof = _prove(task, model)
        if proof is not None and proof.status == "proved":
            return Certification(
                method="bounds",
                domain_size=task.domain_size,
                n_checked=task.domain_size,
                accuracy=1.0,
                weights_sha256=weights_sha256,
                # the proof bounds the network in float64; the fp32 one that runs may round lower,
                # by less than the allowance a proof must clear (verify/bounds/prove.py)
                min_margin=proof.min_margin - proof.fp32_allowance,
                seconds=time.perf_counter() - start,
            )
    seen = _row_set(training) if training is not None else None
    named = _distributions(task, distributions)
    samples, counterexamples, n_all, wrong_all, margin = [], [], 0, 0, float("inf")
    for index, (name, draw, exhaustive) in enumerate(named):
        rng = np.random.default_rng(np.random.SeedSequence([seed, SALT, index]))
        inputs = draw(task, max(1, sample // len(named)), rng)
        if seen is not None and not exhaustive:
            inputs = _without(inputs, seen)
        if not inputs[0].shape[0]:
            continue  # every draw was a training input: nothing learned from this one
        found = run_inputs(task, model, inputs, precision)
        bound = found.wrong / found.n if exhaustive else upper_bound(found.wrong, found.n)
        samples.append(Sample(name, found.n, found.wrong, bound, exhaustive))
        counterexamples += found.counterexamples[: MAX_COUNTEREXAMPLES - len(counterexamples)]
        n_all, wrong_all, margin = n_all + found.n, wrong_all + found.wrong, min(margin, found.min_margin)
    return Certification(
        method="sampled",
        domain_size=task.domain_size,
        n_checked=n_all,
        accuracy=(n_all - wrong_all) / n_all,
        weights_sha256=weights_sha256,
        precision=precision,
        min_margin=margin,
        seconds=time.perf_counter() - start,
        counterexamples=counterexamples,
        samples=tuple(samples),
    )


def _prove(task: Task, model: torch.nn.Module):
    """A bounds proof over the whole domain (`verify.bounds`), within `PROOF_SECONDS`."""
    from circ.verify.bounds import prove

    return prove(model, task, time_limit_s=PROOF_SECONDS)


def _distributions(task: Task, given: Mapping[str, Sampler] | None) -> list[tuple[str, Sampler, bool]]:
    """(name, sampler, whole support?) per named distribution: the caller's, or for grid inputs the
    named ARC-like distributions (`learn.data.distributions`: uniform, sparse on a background,
    constant, one odd cell, patterns — a small support listed whole), else uniform."""
    if given is not None:
        return [(name, draw, False) for name, draw in given.items()]
    if not all(isinstance(t, T.GridT) for t in task.arg_types):
        return [("uniform", sample_inputs, False)]
    out = []
    for name in dist.names_for(task):
        listed = dist.support(task, name)
        if listed is not None:
            out.append((name, lambda _t, _n, _rng, listed=listed: listed, True))
        else:
            out.append((name, lambda t, n, rng, name=name: dist.sample(t, name, n, rng), False))
    return out


def _row_set(inputs: list[np.ndarray]) -> set[bytes]:
    flat = np.ascontiguousarray(np.concatenate(inputs, axis=1).astype(np.int64))
    return {row.tobytes() for row in flat}


def _without(inputs: list[np.ndarray], seen: set[bytes]) -> list[np.ndarray]:
    """The draws that are not training inputs (the check behind "disjoint from the training data")."""
    flat = np.ascontiguousarray(np.concatenate(inputs, axis=1).astype(np.int64))
    keep = np.array([row.tobytes() not in seen for row in flat], dtype=bool)
    return [a[keep] for a in inputs]


def _counterexample(task: Task, inputs: list[np.ndarray], y: np.ndarray, got: np.ndarray, row: int) -> dict:
    iface = task.interface
    args = ", ".join(format_value(_value(t, a[row])) for t, a in zip(task.arg_types, inputs, strict=True))
    expected = _value(task.out_type, decode_outputs(iface, y[row : row + 1])[0])
    answered = _value(task.out_type, decode_outputs(iface, got[None])[0])
    return {"input": f"({args})", "expected": format_value(expected), "got": format_value(answered)}


def _value(t: Type, flat: np.ndarray) -> object:
    return unflatten(t, [int(v) for v in np.atleast_1d(flat)])


def certify(
    catalog: Catalog,
    ref: str,
    *,
    seed: int = 0,
    sample: int = SAMPLE_SIZE,
    precision: str = "fp32",
    training: list[np.ndarray] | None = None,
) -> CertificateRecord:
    """Certify a catalogued circuit against its task's reference and record the certificate;
    `training`: the inputs it was trained (and validated) on, kept out of any sample."""
    record = catalog.get(ref)
    try:
        task = task_from_key(record.task)
    except ConfigError as exc:  # the reference to check against is the task's: no task, no certificate
        raise CatalogError(
            f"circuit {ref!r} names task {record.task!r}, which cannot be certified: {exc}"
        ) from None
    if precision not in DTYPES:
        raise CatalogError(f"precision: must be one of {', '.join(DTYPES)}, got {precision!r}")
    model = catalog.load_model(record.ref)
    result = certify_model(
        task,
        model,
        weights_sha256=record.weights_sha256,
        seed=seed,
        sample=sample,
        precision=precision,
        training=training,
    )
    return catalog.add_certificate(record.ref, result)
