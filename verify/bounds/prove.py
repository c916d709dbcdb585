"""Branch and bound over input regions: a sound lower bound on every output's logit margin over
every input of a circuit's domain, or concrete counterexamples, or the regions left open.

A region is an allowed token set per input position (all of them at the start). For each output
position the prover keeps a stack of regions and, for each:

1. makes the correct token known on the whole region: if the reference, evaluated on every
   combination of the values of the cells this output reads (`dependency`), gives one token, that
   is the target; otherwise it splits a read cell into single values;
2. a region of at most `leaf` inputs is run whole (fp32 answers, float64 margins);
3. otherwise bounds the margin (correct − best other logit) from below; above `FP32_ALLOWANCE`
   the region is proved;
4. else runs the bound's minimising inputs through the circuit: a wrong answer is a counterexample
   and closes the region as refuted;
5. else splits the region on the position with most leverage, until `max_regions` is spent; what is
   still open is reported, never counted as proved.

Bounds are float64 on the fp32 weights (each fp32 value is exact in float64): they hold for the
network in exact arithmetic, with float64 rounding absorbed by `mixture.ROUNDING`. A region counts
as proved only when its bound exceeds `FP32_ALLOWANCE`, meant to cover the rounding of the fp32
forward pass that runs. That allowance is measured, not derived: the largest |fp32 − float64| logit
gap over 5,000 inputs of each distribution on the Grid[5, 5] circuits is 1.3e-5 (a margin moves by
at most twice that), 40× below it; the proved margins of the shipped circuits are ≥ 0.99. A bf16
run is another network and needs its own proof.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from circ.lang.types import parts
from circ.learn.data.split import examples
from circ.learn.data.task import Task
from circ.learn.data.tokens import encode_inputs, split_args
from circ.learn.model import CircuitTransformer
from circ.verify.bounds.dependency import Dependency, structural_dependency
from circ.verify.bounds.exact_bounder import ExactBounder, exact_applies
from circ.verify.bounds.interval_bounder import IntervalBounder
from circ.verify.bounds.weights import weights_of

FP32_ALLOWANCE = 1e-3
TARGET_LIMIT = 4096  # combinations of read cells the reference is evaluated on to fix a target
LEAF = 512  # a region this small is run whole rather than bounded
BATCH = 32


@dataclass(frozen=True)
class Counterexample:
    output: int  # output token position
    tokens: tuple[int, ...]  # the input, as model tokens (argument positions)
    expected: int  # correct output token there
    got: int  # the circuit's token


@dataclass(frozen=True)
class OpenRegion:
    output: int
    allowed: tuple[tuple[int, ...], ...]  # per input position, the tokens the region allows
    best_bound: float  # the margin lower bound reached on it

    @property
    def size(self) -> int:
        return math.prod(len(a) for a in self.allowed)


@dataclass(frozen=True)
class OutputProof:
    output: int
    status: str  # "proved" | "refuted" | "unproved"
    min_margin: float  # a lower bound on this output's margin over the closed regions (inf if none)
    regions_bounded: int
    regions_proved: int
    inputs_run: int  # inputs in leaf regions, run whole
    uncovered_inputs: int  # inputs in the regions left open (all of them, not only those listed)
    counterexamples: tuple[Counterexample, ...]  # the first 20
    open_regions: tuple[OpenRegion, ...]  # the first 20


@dataclass(frozen=True)
class BoundsResult:
    """The certificate's content: `method` is "bounds"; `status` "proved" only when every output is."""

    task: str
    domain_size: int
    method: str
    bounder: str
    status: str
    min_margin: float  # sound lower bound on every output's margin over the whole domain (if proved)
    time_s: float
    dependency: str
    fp32_allowance: float
    outputs: tuple[OutputProof, ...] = field(repr=False)

    @property
    def counterexamples(self) -> tuple[Counterexample, ...]:
        return tuple(c for o in self.outputs for c in o.counterexamples)

    @property
    def open_regions(self) -> tuple[OpenRegion, ...]:
        return tuple(r for o in self.outputs for r in o.open_regions)

    @property
    def uncovered_at_most(self) -> int:
        """An upper bound on the inputs some output leaves open (the sum over outputs: an input
        open at two outputs counts twice)."""
        return sum(o.uncovered_inputs for o in self.outputs)

    def summary(self) -> dict[str, object]:
        """JSON-ready, for a certificate or an `extraction` row (counterexamples and open regions
        capped at 20 each)."""
        return {
            "method": self.method,
            "task": self.task,
            "domain_size": str(self.domain_size),
            "status": self.status,
            "min_margin": self.min_margin if math.isfinite(self.min_margin) else None,
            "time_s": round(self.time_s, 3),
            "bounder": self.bounder,
            "dependency": self.dependency,
            "fp32_allowance": self.fp32_allowance,
            "arithmetic": "float64 on the fp32 weights",
            "per_output_min_margin": [
                o.min_margin if math.isfinite(o.min_margin) else None for o in self.outputs
            ],
            "regions_bounded": sum(o.regions_bounded for o in self.outputs),
            "counterexamples": [asdict(c) for c in self.counterexamples[:20]],
            "open_regions": [asdict(r) for r in self.open_regions[:20]],
            "uncovered_at_most": str(self.uncovered_at_most),
        }


def _leaf_sizes(task: Task) -> list[int]:
    return [leaf.size for t in task.arg_types for leaf in parts(t)]


def initial_region(task: Task) -> torch.Tensor:
    sizes = _leaf_sizes(task)
    region = torch.zeros(len(sizes), max(sizes), dtype=torch.bool)
    for j, k in enumerate(sizes):
        region[j, :k] = True
    return region


def _points(region: torch.Tensor, cells: list[int] | None = None) -> np.ndarray:
    """Every combination of the region's values (over `cells`; other cells at their first allowed
    value) as raw token rows `[N, n_in]`."""
    n_in = region.shape[0]
    cells = list(range(n_in)) if cells is None else cells
    base = np.array([int(torch.nonzero(region[j])[0]) for j in range(n_in)], dtype=np.int64)
    choices = [torch.nonzero(region[j]).flatten().numpy() for j in cells]
    if not cells:
        return base[None]
    grid = np.stack(np.meshgrid(*choices, indexing="ij"), -1).reshape(-1, len(cells))
    rows = np.repeat(base[None], grid.shape[0], axis=0)
    rows[:, cells] = grid
    return rows


def _targets(task: Task, tokens: np.ndarray, out: int) -> np.ndarray:
    """Correct output tokens at position `out` for argument-token rows."""
    raw = split_args(task.interface, tokens)
    _, y = examples(task, raw)
    return y[:, out]


def _forward(model: CircuitTransformer, task: Task, tokens: np.ndarray) -> torch.Tensor:
    iface = task.interface
    full = encode_inputs(iface, split_args(iface, tokens))
    with torch.no_grad():
        return model(torch.from_numpy(full).to(next(model.parameters()).device))


class _Prover:
    def __init__(self, model: CircuitTransformer, task: Task, dependency: Dependency, **opts) -> None:
        self.model, self.task, self.dep = model.eval(), task, dependency
        self.model64 = CircuitTransformer(model.cfg).to(torch.float64)
        self.model64.load_state_dict({k: v.to(torch.float64) for k, v in model.state_dict().items()})
        self.model64.eval()
        self.opts = opts
        self.rng = np.random.default_rng(0)  # probe inputs: seeded, so a proof run is reproducible
        w = weights_of(model)
        n_in = task.interface.n_in
        query = task.interface.query_token
        if exact_applies(w):
            self.bounder = ExactBounder(w, n_in, query, opts["alpha_steps"])
        else:
            self.bounder = IntervalBounder(w, n_in, query)

    def _margins64(self, tokens: np.ndarray, out: int, targets: np.ndarray) -> np.ndarray:
        iface = self.task.interface
        full = torch.from_numpy(encode_inputs(iface, split_args(iface, tokens)))
        with torch.no_grad():
            logits = self.model64(full)[:, out]
        t = torch.from_numpy(targets)
        correct = logits.gather(1, t[:, None]).squeeze(1)
        other = logits.scatter(1, t[:, None], -torch.inf).amax(1)
        return (correct - other).numpy()

    def _wrong(self, tokens: np.ndarray, out: int) -> list[Counterexample]:
        """Run rows through the fp32 circuit; those answering wrong at `out` (at most a few)."""
        expected = _targets(self.task, tokens, out)
        got = _forward(self.model, self.task, tokens)[:, out].argmax(-1).cpu().numpy()
        bad = np.flatnonzero(got != expected)[:5]
        return [
            Counterexample(out, tuple(int(v) for v in tokens[i]), int(expected[i]), int(got[i])) for i in bad
        ]

    def prove_output(self, out: int, deadline: float) -> OutputProof:
        leaf, max_regions = self.opts["leaf"], self.opts["max_regions"]
        reads = list(self.dep.cells[out])
        # (region, its parent's bound): what an open region reports
        stack: list[tuple[torch.Tensor, float]] = [(initial_region(self.task), -math.inf)]
        min_margin, bounded, proved, run = math.inf, 0, 0, 0
        cexs: list[Counterexample] = []
        open_: list[OpenRegion] = []
        while stack:
            if len(cexs) >= self.opts["max_counterexamples"]:  # refuted: what is left stays open
                open_.extend(OpenRegion(out, _allowed(r), lb) for r, lb in stack)
                break
            if bounded >= max_regions or time.perf_counter() > deadline:
                open_.extend(OpenRegion(out, _allowed(r), lb) for r, lb in stack)
                break
            ready, targets = [], []
            while stack and len(ready) < BATCH:
                region, parent = stack.pop()
                size = math.prod(int(n) for n in region.sum(-1))
                if size <= leaf:  # run it whole: exact answers, exact margins
                    rows = _points(region)
                    run += rows.shape[0]
                    wrong = self._wrong(rows, out)
                    if wrong:
                        cexs.extend(wrong)
                    else:
                        margins = self._margins64(rows, out, _targets(self.task, rows, out))
                        min_margin = min(min_margin, float(margins.min()))
                    continue
                target = self._target(region, reads, out)
                if target is None:
                    stack.extend((child, parent) for child in _split_read_cell(region, reads))
                    continue
                ready.append(region)
                targets.append(target)
            if not ready:
                continue
            regions = torch.stack(ready)
            lower, candidates = self.bounder.bound(out, regions, torch.tensor(targets))
            bounded += len(ready)
            for i, region in enumerate(ready):
                lb = float(lower[i])
                if lb > self.opts["fp32_allowance"]:
                    proved += 1
                    min_margin = min(min_margin, lb)
                    continue
                probes = np.concatenate([candidates[i].numpy().astype(np.int64), _probes(region, self.rng)])
                wrong = self._wrong(probes, out)
                if wrong:
                    cexs.extend(wrong[:1])
                    continue
                pos, first, second = self.bounder.split_position(out, region)
                for part in (first, second):
                    child = region.clone()
                    child[pos] = False
                    child[pos, part] = True
                    stack.append((child, lb))
        status = "refuted" if cexs else ("unproved" if open_ else "proved")
        uncovered = sum(r.size for r in open_)
        return OutputProof(
            out, status, min_margin, bounded, proved, run, uncovered, tuple(cexs[:20]), tuple(open_[:20])
        )

    def _target(self, region: torch.Tensor, reads: list[int], out: int) -> int | None:
        """The correct token on the whole region, if the cells `out` reads already fix it."""
        combos = math.prod(int(region[j].sum()) for j in reads)
        if combos > TARGET_LIMIT:
            return None
        values = _targets(self.task, _points(region, reads), out)
        return int(values[0]) if (values == values[0]).all() else None


def _probes(region: torch.Tensor, rng: np.random.Generator, n_random: int = 4) -> np.ndarray:
    """Inputs of the region worth trying when its bound does not close: every free cell one colour
    (one-odd-cell and background failures are of this kind), and a few random points."""
    allowed = region.numpy()
    first = allowed.argmax(-1)
    rows = []
    for v in range(allowed.shape[1]):
        rows.append(np.where(allowed[:, v], v, first))
    for _ in range(n_random):
        scores = rng.random(allowed.shape) * allowed
        rows.append(scores.argmax(-1))
    return np.stack(rows).astype(np.int64)


def _allowed(region: torch.Tensor) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(v) for v in torch.nonzero(row).flatten()) for row in region)


def _split_read_cell(region: torch.Tensor, reads: list[int]) -> list[torch.Tensor]:
    """Split the read cell with the most values: into single values (targets need them fixed)."""
    pos = max(reads, key=lambda j: int(region[j].sum()))
    children = []
    for v in torch.nonzero(region[pos]).flatten().tolist():
        child = region.clone()
        child[pos] = False
        child[pos, v] = True
        children.append(child)
    return children


def prove(
    model: CircuitTransformer,
    task: Task,
    *,
    dependency: Dependency | None = None,
    max_regions: int = 20_000,
    time_limit_s: float = 600.0,
    alpha_steps: int = 8,
    leaf: int = LEAF,
    fp32_allowance: float = FP32_ALLOWANCE,
    max_counterexamples: int = 5,
    outputs: Iterable[int] | None = None,
    on_output: Callable[[OutputProof], None] | None = None,
) -> BoundsResult:
    """Prove (or refute) `model` correct on every input of `task`; see the module docstring.
    `max_regions` and `time_limit_s` are per output position; an output stops at
    `max_counterexamples` counterexamples. `outputs` proves only those output positions (a quick
    check); the result is then "proved" only if they are all the task has."""
    start = time.perf_counter()
    dep = dependency if dependency is not None else structural_dependency(task)
    prover = _Prover(
        model,
        task,
        dep,
        max_regions=max_regions,
        alpha_steps=alpha_steps,
        leaf=leaf,
        fp32_allowance=fp32_allowance,
        max_counterexamples=max_counterexamples,
    )
    proofs = []
    every = range(task.interface.n_out)
    for out in every if outputs is None else outputs:
        proof = prover.prove_output(out, time.perf_counter() + time_limit_s)
        proofs.append(proof)
        if on_output is not None:
            on_output(proof)
    statuses = {o.status for o in proofs}
    if len(proofs) < len(every):
        statuses.add("unproved")
    status = "refuted" if "refuted" in statuses else ("unproved" if "unproved" in statuses else "proved")
    return BoundsResult(
        task=task.key,
        domain_size=task.domain_size,
        method="bounds",
        bounder=prover.bounder.name,
        status=status,
        min_margin=min(o.min_margin for o in proofs),
        time_s=time.perf_counter() - start,
        dependency=dep.justification,
        fp32_allowance=fp32_allowance,
        outputs=tuple(proofs),
    )
