"""Train → use: a model that `circ train --out DIR` left becomes a catalogued circuit a program can
declare (`circ catalog add`, `circ catalog declare`, `circ train … --register`).

`circ train` writes `DIR/<run>/model.safetensors` (the config and the task key, signature and run in
its metadata), `DIR/runs.json` and `DIR/curves.json`. Registering checks the weights against all of
it — the task exists, the config fits the task's token interface, the signature is the task's, the
tensors are the shapes the config makes — so the catalog never holds a circuit that would decode its
tokens as the wrong type. The contract recorded with it is the task's, checked against the task
(`circ.contracts`); the training run (seed, curves) is recorded beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from circ.circuit.config import ModelConfig, parameter_shapes
from circ.circuit.weights import WeightsError, read_header
from circ.contracts import Contract, declaration, identifier, task_contract
from circ.lang.errors import ConfigError, UserError
from circ.learn.catalog import Catalog, CertificateRecord, CircuitRecord
from circ.learn.data import task_from_key
from circ.learn.data.task import Task

WEIGHTS = "model.safetensors"


class RegisterError(UserError):
    """A training output that cannot become a catalogued circuit; says which file and why."""


@dataclass(frozen=True)
class TrainedModel:
    """One member of a training output, read and checked."""

    path: Path  # its model.safetensors
    run: str  # the run's name, e.g. `color_add-s0`
    task: Task
    config: ModelConfig
    weights: bytes
    seed: int | None
    val_acc: float | None


@dataclass(frozen=True)
class Registered:
    record: CircuitRecord
    model: TrainedModel
    contract: Contract | None
    certificate: CertificateRecord | None = None


def members(out: Path) -> list[str]:
    """The runs a `circ train --out` folder holds, in its `runs.json` order."""
    summary = out / "runs.json"
    if summary.is_file():
        try:
            return [entry["name"] for entry in json.loads(summary.read_text())]
        except (ValueError, KeyError, TypeError) as exc:
            raise RegisterError(f"{summary}: not a `circ train` summary ({exc})") from None
    return sorted(p.parent.name for p in out.glob(f"*/{WEIGHTS}"))


def find_weights(run: Path, member: str | None = None) -> Path:
    """RUN is a run's folder (holding model.safetensors) or a `circ train --out` folder, whose member
    is chosen by `member` (its index or its name) when it holds more than one."""
    if (run / WEIGHTS).is_file():
        if member is not None:
            raise RegisterError(f"--member: {run} holds one model; give its folder without --member")
        return run / WEIGHTS
    if not run.is_dir():
        raise RegisterError(f"{run}: no such folder (give the --out folder of `circ train`, or a run in it)")
    names = members(run)
    if not names:
        raise RegisterError(f"{run}: no trained model here (no {WEIGHTS}, no runs.json)")
    if member is None:
        if len(names) > 1:
            listed = ", ".join(f"{i}: {n}" for i, n in enumerate(names))
            raise RegisterError(f"--member: {run} holds {len(names)} models; choose one ({listed})")
        member = names[0]
    chosen = names[int(member)] if member.isdigit() and int(member) < len(names) else member
    if chosen not in names:
        raise RegisterError(f"--member: no run {member!r} in {run} (runs: {', '.join(names)})")
    path = run / chosen / WEIGHTS
    if not path.is_file():
        raise RegisterError(f"{path}: missing (the run is listed in runs.json)")
    return path


def read_trained(path: Path) -> TrainedModel:
    """A trained model's weights, checked against their own config, task and signature."""
    try:
        data = path.read_bytes()
        header = read_header(data)
    except OSError as exc:
        raise RegisterError(f"{path}: cannot read ({exc.strerror})") from None
    except WeightsError as exc:
        raise RegisterError(f"{path}: {exc}") from None
    meta = header.metadata
    if "task" not in meta:
        raise RegisterError(f"{path}: no task in its metadata (weights not written by `circ train`)")
    try:
        task = task_from_key(meta["task"])
        config = ModelConfig.from_dict(header.config)
        config.check_interface(task.interface)
    except ConfigError as exc:
        raise RegisterError(f"{path}: {exc}") from None
    if meta.get("signature", task.signature) != task.signature:
        raise RegisterError(
            f"{path}: signature {meta['signature']} is not task {task.key}'s {task.signature}"
        )
    run = json.loads(meta["run"]) if "run" in meta else {}
    if run and run.get("model") != config.to_dict():
        raise RegisterError(f"{path}: the run's model config differs from the weights' config")
    _check_shapes(path, config, header.shapes)
    val_acc = float(meta["val_acc"]) if "val_acc" in meta else None
    return TrainedModel(path, path.parent.name, task, config, data, run.get("seed"), val_acc)


def _check_shapes(path: Path, config: ModelConfig, shapes: dict[str, tuple[int, ...]]) -> None:
    """Every tensor the config's network has, at its shape, and no other."""
    expected = parameter_shapes(config)
    for name in sorted(set(expected) | set(shapes)):
        if expected.get(name) != shapes.get(name):
            have, want = shapes.get(name, "missing"), expected.get(name, "not in the model")
            raise RegisterError(f"{path}: tensor {name} is {have}, the config needs {want}")


def register(catalog: Catalog, model: TrainedModel, name: str) -> Registered:
    """Catalog a checked model under `name` with its task's checked contract and its training run."""
    from circ.learn.curves import load_curves

    contract = task_contract(model.task)
    record = catalog.register_circuit(
        name, model.task.signature, contract.text if contract else "", model.task.key, None, model.weights
    )
    curves = None
    curves_file = model.path.parent.parent / "curves.json"
    if curves_file.is_file():
        try:
            curves = load_curves(curves_file).get(model.run)
        except (OSError, ValueError):
            curves = None  # curves are provenance, not a condition of registering
    seed = model.seed if isinstance(model.seed, int) else 0
    catalog.add_training_run(
        model.task.key, model.config.to_dict(), seed, status="finished", curves=curves, circuit=record.ref
    )
    return Registered(record, model, contract)


def certify_and_register(catalog: Catalog, model: TrainedModel, name: str) -> Registered:
    """Certify the model on its task's whole domain (or a seeded sample), then catalog it with the
    certificate (`circ train --register`)."""
    import torch
    from safetensors.torch import load

    from circ.learn.model import CircuitTransformer
    from circ.verify.certify import certify_model

    network = CircuitTransformer(model.config)
    network.load_state_dict(load(model.weights))
    registered = register(catalog, model, name)  # first: the certificate names the stored weights
    with torch.no_grad():
        result = certify_model(model.task, network.eval(), weights_sha256=registered.record.weights_sha256)
    certificate = catalog.add_certificate(registered.record.ref, result)
    return Registered(registered.record, model, registered.contract, certificate)


def declare(catalog: Catalog, ref: str, as_name: str | None = None) -> tuple[str, str]:
    """The declaration to paste for a catalogued circuit, and a comment line saying where its contract
    comes from. The contract is the record's, else its task's; either is printed only once the task
    is checked to meet it (on its whole domain, or a seeded sample, as the comment says)."""
    from circ.contracts import checked_declaration, task_meets

    record = catalog.get(ref)
    try:
        task = task_from_key(record.task)
    except ConfigError as exc:
        raise RegisterError(f"circuit {ref!r}: its task {record.task!r} is unknown here ({exc})") from None
    if record.signature.startswith("(") and record.signature != task.signature:
        raise RegisterError(f"circuit {ref!r} is {record.signature}, but its task is {task.signature}")
    name = as_name or identifier(record.name)
    if not name.isidentifier():
        raise RegisterError(f"--as: {name!r} is not a circ name")
    clauses = tuple(c.strip() for c in record.contract.split(";") if c.strip())
    if not clauses:
        contract = task_contract(task)
        if contract is None:
            return declaration(name, record.name, task), f"# {record.ref}: no contract known for {task.key}"
        why = f"contract from task {task.key}, checked on {contract.checked_on}"
        return declaration(name, record.name, task, contract.clauses), f"# {record.ref}: {why}"
    text = declaration(name, record.name, task, clauses)
    where = task_meets(checked_declaration(text), task)
    if where:
        return text, f"# {record.ref}: contract as catalogued, checked against {task.key} on {where}"
    plain = declaration(name, record.name, task)
    return plain, f"# {record.ref}: its catalogued contract does not hold for {task.key}; none is declared"
