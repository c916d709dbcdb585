"""Feature labels, checked on the whole finite domain.

For each transcoder feature: where it fires (activation > 0) over every input and every position its
layer computes, its top-activating inputs, and the best description of the form "fires iff V ∈ S",
where V is one input value (`a`, `xs[2]`), one output value (`result`, `result[3]`), or — for a feature
firing at several output positions — the output value at the position where it fires (`result here`).
S is read off the domain; the description is **exact** when the feature fires at exactly the inputs
it names (checked on all of them), else it comes with its agreement (the share of inputs it gets
right). For circuits over Mod[p] arguments the activation is also taken apart in Fourier modes of the
arguments (Nanda et al. 2023): "62% of its variance at frequency 22 of a + b".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from circ.lang import layout
from circ.lang import types as T
from circ.learn.extract.domain import BATCH, Domain
from circ.learn.extract.train_transcoder import mlp_io
from circ.learn.extract.transcoder import Transcoders
from circ.learn.model import CircuitTransformer

TOP_INPUTS = 8


@dataclass(frozen=True)
class FeatureLabel:
    layer: int
    feature: int
    description: str
    exact: bool  # the description holds on every input of the domain
    agreement: float  # share of (input, position) events the description gets right
    fires: int  # (input, position) events with activation > 0
    events: int  # (input, position) events in all
    top: list[dict[str, object]] = field(default_factory=list)  # top-activating inputs
    fourier: dict[str, object] | None = None
    variable: str | None = None  # the V of "fires iff V ∈ S" (None: dead, always on, or no single V)
    values: list[int] | None = None  # S
    position: int | None = None  # the one position the description speaks of (None: any position)

    def to_dict(self) -> dict[str, object]:
        return {
            "layer": self.layer,
            "feature": self.feature,
            "description": self.description,
            "exact": self.exact,
            "agreement": round(self.agreement, 6),
            "fires": self.fires,
            "events": self.events,
            "top": self.top,
            "fourier": self.fourier,
            "variable": self.variable,
            "values": self.values,
            "position": self.position,
        }


def compress(values: list[int]) -> str:
    """{0..4, 7, 9..12}: runs of consecutive values as ranges."""
    out, run = [], []
    for v in sorted(values):
        if run and v == run[-1] + 1:
            run.append(v)
            continue
        if run:
            out.append(f"{run[0]}..{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)))
        run = [v]
    if run:
        out.append(f"{run[0]}..{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)))
    return "{" + ", ".join(out) + "}"


@dataclass(frozen=True)
class _Variable:
    name: str
    values: np.ndarray  # [N] raw values
    low: int
    size: int


def _variables(domain: Domain, arg_names: list[str]) -> tuple[list[_Variable], list[_Variable]]:
    """Per-row input leaves and output leaves, named after the arguments (`a`, `xs[2]`, `result[0]`)."""
    task = domain.task
    ins = []
    for name, t, raw in zip(arg_names, task.arg_types, domain.inputs, strict=True):
        leaves = T.parts(t)
        for i, leaf in enumerate(leaves):
            label = name if len(leaves) == 1 else f"{name}[{i}]"
            ins.append(_Variable(label, raw[:, i].astype(np.int64), leaf.low, leaf.size))
    outs = []
    leaves = T.parts(task.out_type)
    targets = domain.targets.numpy()
    for i, leaf in enumerate(leaves):
        label = "result" if len(leaves) == 1 else f"result[{i}]"
        outs.append(_Variable(label, targets[:, i] + leaf.low, leaf.low, leaf.size))
    return ins, outs


def _positions(model: CircuitTransformer, layer: int) -> list[int]:
    cfg = model.cfg
    if layer == cfg.n_layers - 1:
        return list(range(cfg.n_positions - cfg.n_out, cfg.n_positions))
    return list(range(cfg.n_positions))


def _rows_text(domain: Domain, row: int) -> str:
    return (
        "("
        + ", ".join(
            layout.format_value(layout.unflatten(t, [int(v) for v in a[row]]))
            for t, a in zip(domain.task.arg_types, domain.inputs, strict=True)
        )
        + ")"
    )


@torch.no_grad()
def label_features(
    model: CircuitTransformer, tc: Transcoders, domain: Domain, arg_names: list[str] | None = None
) -> list[FeatureLabel]:
    """Labels for every feature of every layer, on every input of `domain`."""
    task = domain.task
    names = arg_names or (
        ["x"] if len(task.arg_types) == 1 else [chr(ord("a") + i) for i in range(len(task.arg_types))]
    )
    row_vars_in, row_vars_out = _variables(domain, names)
    row_vars = row_vars_in + row_vars_out
    labels = []
    for layer in range(tc.cfg.n_layers):
        positions = _positions(model, layer)
        labels += _label_layer(model, tc, domain, layer, positions, row_vars, row_vars_out, names)
    return labels


def _label_layer(model, tc, domain, layer, positions, row_vars, out_vars, names) -> list[FeatureLabel]:
    n_in = domain.task.interface.n_in
    d_sae, n = tc.cfg.d_sae, domain.size
    n_pos = len(positions)
    width = max(v.size for v in row_vars)
    onehot_index = [torch.from_numpy(v.values - v.low) for v in row_vars]
    # fire[p, f, v, value]: events at position p where f fires and variable v has that value
    fire = torch.zeros(n_pos, d_sae, len(row_vars), width, dtype=torch.float64)
    here = torch.zeros(
        d_sae, width, dtype=torch.float64
    )  # "result here": output value at the event's position
    here_total = torch.zeros(width, dtype=torch.float64)
    fires_at = torch.zeros(n_pos, d_sae, dtype=torch.float64)
    top_val = torch.full((d_sae, TOP_INPUTS), -1.0)
    top_row = torch.zeros(d_sae, TOP_INPUTS, dtype=torch.long)
    top_pos = torch.zeros(d_sae, TOP_INPUTS, dtype=torch.long)
    acts_at_first: list[torch.Tensor] = []  # activations at the first position, for Fourier
    read_index = {p: p - n_in for p in positions if p >= n_in}
    for start in range(0, n, BATCH):
        stop = min(start + BATCH, n)
        xs, _ = mlp_io(model, domain.tokens[start:stop])
        acts = tc.encode(layer, xs[layer])  # [B, q_pos, d_sae] over the last q_pos positions
        acts = acts[:, acts.shape[1] - n_pos :]
        on = (acts > 0).double()
        onehot = torch.zeros(stop - start, len(row_vars), width, dtype=torch.float64)
        for v, idx in enumerate(onehot_index):
            onehot[torch.arange(stop - start), v, idx[start:stop]] = 1
        fire += torch.einsum("bpf,bvk->pfvk", on, onehot)
        fires_at += on.sum(0)
        for p_i, p in enumerate(positions):
            if p in read_index:
                var = out_vars[read_index[p]]
                value = torch.from_numpy(var.values[start:stop] - var.low)
                oh = torch.zeros(stop - start, width, dtype=torch.float64)
                oh[torch.arange(stop - start), value] = 1
                here += on[:, p_i].T @ oh
                here_total += oh.sum(0)
        best, where = acts.max(1)  # [B, d_sae]
        merged_val = torch.cat([top_val, best.T], 1)
        merged_row = torch.cat([top_row, torch.arange(start, stop).expand(d_sae, -1)], 1)
        merged_pos = torch.cat([top_pos, torch.tensor(positions)[where].T], 1)
        keep = merged_val.topk(TOP_INPUTS, dim=1).indices
        top_val, top_row, top_pos = (
            merged_val.gather(1, keep),
            merged_row.gather(1, keep),
            merged_pos.gather(1, keep),
        )
        acts_at_first.append(acts[:, 0])
    totals = torch.zeros(len(row_vars), width, dtype=torch.float64)
    for v, idx in enumerate(onehot_index):
        totals[v] += torch.bincount(idx, minlength=width).double()
    first = torch.cat(acts_at_first)
    labels = []
    for f in range(d_sae):
        top = [
            {"input": _rows_text(domain, int(r)), "pos": int(p), "activation": round(float(a), 5)}
            for a, r, p in zip(top_val[f], top_row[f], top_pos[f], strict=True)
            if a > 0
        ]
        outside = float(fires_at[[i for i, p in enumerate(positions) if p < n_in], f].sum())
        label = _describe(
            fire[:, f], fires_at[:, f], totals, here[f], here_total, row_vars, positions, n, outside
        )
        fourier = _fourier(domain, first[:, f], names) if n_pos == 1 else None
        text, exact, agreement, fires, events, variable, values, position = label
        labels.append(
            FeatureLabel(
                layer, f, text, exact, agreement, fires, events, top, fourier, variable, values, position
            )
        )
    return labels


def _describe(fire, fires_at, totals, here, here_total, row_vars, positions, n, outside):
    """(description, exact, agreement, fires, events) for one feature; `outside`: how often it fires
    at input positions (where no output value is "here")."""
    events = n * len(positions)
    fires = int(fires_at.sum())
    if fires == 0:
        return "never fires on the domain (dead)", True, 1.0, 0, events, None, None, None
    if fires == events:
        return "fires on every input, at every position", True, 1.0, fires, events, None, None, None
    candidates = []  # (exact, agreement, -|S|, description, variable, values, position)
    active = (fires_at > 0).nonzero().flatten().tolist()
    if len(active) == 1:  # one position: a row variable can say it exactly
        p = active[0]
        where = f" at position {positions[p]}" if len(positions) > 1 else ""
        for v, var in enumerate(row_vars):
            candidates.append(
                _candidate(fire[p, v], totals[v], var.name, var.low, events, where, positions[p])
            )
    if here_total.sum() > 0 and outside == 0 and len(active) > 1:
        candidates.append(_candidate(here, here_total, "result here", row_vars[-1].low, events, "", None))
    if not candidates:
        text = f"fires at {fires:,} of {events:,} (input, position) events"
        return text, False, 0.0, fires, events, None, None, None
    exact, agreement, _, text, variable, values, position = max(candidates, key=lambda c: c[:3])
    return text, exact, agreement, fires, events, variable, values, position


def _candidate(fire_v, total_v, name, low, events, where, position):
    """The best "fires iff name ∈ S" for one variable: S = values where it fires more often than not."""
    in_set = fire_v > total_v / 2
    right = torch.where(in_set, fire_v, total_v - fire_v).sum()
    # A variable only accounts for the events it covers; the rest (other positions) must not fire.
    agreement = float((right + (events - total_v.sum())) / events)
    values = [int(i) + low for i in in_set.nonzero().flatten().tolist()]
    if not values:
        text = f"rarely fires; no value of {name} makes it fire more often than not"
        return (False, agreement, 0, text, None, None, None)
    exact = bool(((fire_v == 0) | (fire_v == total_v)).all()) and agreement == 1.0
    text = f"fires{where} {'iff' if exact else 'mostly when'} {name} ∈ {compress(values)}"
    return (exact, agreement, -len(values), text, name, values, position)


def _fourier(domain: Domain, acts: torch.Tensor, names: list[str]) -> dict[str, object] | None:
    """For arguments that are all one Mod[p] token each (1 or 2 of them): the key frequency k whose
    modes (every (k_a, k_b) with each component 0 or ±k) hold most of the activation's variance, that
    share, and the single strongest mode in words (a, b, a + b or a − b)."""
    types = domain.task.arg_types
    if not (1 <= len(types) <= 2 and all(isinstance(t, T.ModT) for t in types)):
        return None
    p = types[0].p
    if any(t.p != p for t in types) or domain.size != p ** len(types):
        return None
    grid = acts.double().reshape((p,) * len(types))  # domain order: a major, b minor
    power = np.abs(np.fft.fftn((grid - grid.mean()).numpy())) ** 2
    total = power.sum()
    if total <= 0:
        return None
    signed = np.where(np.arange(p) <= p // 2, np.arange(p), np.arange(p) - p)
    magnitude = np.abs(signed)
    if len(types) == 1:
        by_k = np.bincount(magnitude, weights=power, minlength=p // 2 + 1)
    else:
        ka, kb = np.meshgrid(magnitude, magnitude, indexing="ij")
        same = (ka == kb) | (ka == 0) | (kb == 0)
        by_k = np.bincount(np.maximum(ka, kb)[same], weights=power[same], minlength=p // 2 + 1)
    k = int(np.argmax(by_k[1:]) + 1)
    share = float(by_k[k] / total)
    index = np.unravel_index(int(np.argmax(power)), power.shape)
    mode = [int(signed[i]) for i in index]
    if len(mode) == 1:
        strongest = names[0]
    else:
        (ma, mb), (a, b) = mode, names
        strongest = (
            f"{a} + {b}"
            if ma == mb
            else f"{a} − {b}"
            if ma == -mb
            else a
            if mb == 0
            else b
            if ma == 0
            else f"({a}, {b})"
        )
    text = f"{share:.0%} of its variance at frequency {k} (strongest mode: {strongest})"
    return {"frequency": k, "share": round(share, 4), "mode": mode, "text": text}
