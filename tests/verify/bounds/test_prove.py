"""The prover on circuits small enough to enumerate: it proves a correct one with a bound that never
exceeds the true minimum margin, refutes a broken one with real counterexamples, and every region's
bound (both bounders) lies below the region's true minimum."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from circ.learn.data.domain import enumerate_inputs
from circ.learn.data.split import examples
from circ.learn.data.task import Task
from circ.learn.data.tokens import encode_inputs, split_args
from circ.learn.model import CircuitTransformer
from circ.verify.bounds import full_dependency, prove, structural_dependency
from circ.verify.bounds.exact_bounder import ExactBounder
from circ.verify.bounds.interval_bounder import IntervalBounder
from circ.verify.bounds.prove import _points, _targets, initial_region
from circ.verify.bounds.weights import weights_of


def true_margins(task: Task, model: CircuitTransformer) -> np.ndarray:
    """[N, n_out] exact (float64) margins over the whole domain, and the domain's tokens."""
    x, y = examples(task, enumerate_inputs(task))
    m64 = CircuitTransformer(model.cfg).double()
    m64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    with torch.no_grad():
        logits = m64(torch.from_numpy(x))
    t = torch.from_numpy(y)
    correct = logits.gather(-1, t[..., None]).squeeze(-1)
    other = logits.scatter(-1, t[..., None], -torch.inf).amax(-1)
    return (correct - other).numpy()


def test_proves_a_correct_circuit_below_its_true_minimum_margin(reverse3) -> None:
    task, model = reverse3
    result = prove(model, task, leaf=0)  # leaf=0: every region is bounded, none run whole
    assert result.status == "proved" and result.method == "bounds"
    assert not result.counterexamples and not result.open_regions
    truth = true_margins(task, model)
    assert 0 < result.min_margin <= truth.min()
    for out in result.outputs:
        assert out.min_margin <= truth[:, out.output].min()
    assert "index op" in result.dependency


def test_without_a_dependency_claim_it_still_proves(reverse3) -> None:
    task, model = reverse3
    result = prove(model, task, dependency=full_dependency(task), leaf=0)
    assert result.status == "proved"
    assert result.min_margin <= true_margins(task, model).min()


def test_refutes_a_broken_circuit_with_real_counterexamples(reverse3) -> None:
    task, model = reverse3
    broken = CircuitTransformer(model.cfg)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["unembed.weight"][[3, 5]] = state["unembed.weight"][[5, 3]]  # 3 and 5 swap answers
    broken.load_state_dict(state)
    result = prove(broken.eval(), task, leaf=0)
    assert result.status == "refuted"
    assert result.counterexamples
    for cex in result.counterexamples:
        tokens = np.array([cex.tokens])
        assert _targets(task, tokens, cex.output)[0] == cex.expected
        full = encode_inputs(task.interface, split_args(task.interface, tokens))
        with torch.no_grad():
            got = int(broken(torch.from_numpy(full))[0, cex.output].argmax())
        assert got == cex.got != cex.expected
        assert {cex.expected, cex.got} == {3, 5}


def test_a_budget_too_small_leaves_regions_open_not_proved(reverse3) -> None:
    task, model = reverse3
    result = prove(model, task, dependency=full_dependency(task), leaf=0, max_regions=1)
    assert result.status == "unproved"
    assert result.open_regions and result.uncovered_at_most > 0
    assert all(o.uncovered_inputs <= task.domain_size for o in result.outputs)


def _random_regions(task: Task, rng: np.random.Generator, n: int) -> torch.Tensor:
    base = initial_region(task)
    regions = torch.from_numpy(rng.random((n, *base.shape)) < 0.4) & base
    regions[:, :, 0] |= ~regions.any(-1)  # every position keeps a token
    return regions


def _region_truth(task: Task, model: CircuitTransformer, region: torch.Tensor, out: int) -> dict[int, float]:
    """For each correct token occurring in the region: the true minimum margin for it there."""
    rows = _points(region)
    truth = true_margins(task, model)  # over the whole domain, indexed by domain order
    sizes = [10] * rows.shape[1]
    index = np.ravel_multi_index(rows.T, sizes)
    targets = _targets(task, rows, out)
    return {int(t): float(truth[index[targets == t], out].min()) for t in np.unique(targets)}


@pytest.mark.parametrize("deep", [False, True])
def test_every_region_bound_is_below_the_regions_true_minimum(reverse3, reverse3_deep, deep: bool) -> None:
    task, model = reverse3_deep if deep else reverse3
    w = weights_of(model)
    iface = task.interface
    bounder = (IntervalBounder if deep else ExactBounder)(
        w, iface.n_in, iface.query_token, *(() if deep else (4,))
    )
    dep = structural_dependency(task)
    rng = np.random.default_rng(5)
    checked = 0
    for region in _random_regions(task, rng, 8):
        for out in range(iface.n_out):
            for target, minimum in _region_truth(task, model, region, out).items():
                sub = region.clone()
                src = dep.cells[out][0]
                sub[src] = False
                sub[src, int(target)] = True  # reversal: the target is the source cell's token
                lower, _ = bounder.bound(out, sub[None], torch.tensor([target]))
                assert float(lower[0]) <= minimum + 1e-9
                checked += 1
    assert checked > 20
    assert math.isfinite(minimum)


def test_summary_is_json_for_a_certificate(reverse3) -> None:
    import json

    task, model = reverse3
    summary = prove(model, task).summary()
    again = json.loads(json.dumps(summary))
    assert again["method"] == "bounds" and again["status"] == "proved"
    assert again["domain_size"] == "1000" and again["min_margin"] > 0
    assert again["arithmetic"] == "float64 on the fp32 weights"


def test_a_shipped_grid_circuit_at_full_scale() -> None:
    """grid5.rot180 (both the first stdlib build and the mixture retrain are provable): two of its
    25 outputs proved over all 10^25 grids in seconds, each bound below every sampled margin."""
    import json

    from circ.learn.data import task_from_key
    from circ.learn.data.distributions import names_for, sample
    from circ.learn.model import load_model
    from circ.settings import packaged_catalog_dir

    catalog = packaged_catalog_dir()
    record = next(
        c
        for c in json.loads((catalog / "manifest.json").read_text())["circuits"]
        if c["name"] == "grid5.rot180"
    )
    sha = record["weights_sha256"]
    model = load_model(catalog / "blobs" / sha[:2] / f"{sha}.safetensors")
    task = task_from_key(record["task"])
    result = prove(model, task, outputs=[0, 12])
    assert [o.status for o in result.outputs] == ["proved", "proved"]
    assert result.status == "unproved"  # 23 outputs were not attempted: never reported as proved
    rng = np.random.default_rng(3)
    rows = np.concatenate([sample(task, d, 500, rng)[0] for d in names_for(task)])
    x, y = examples(task, [rows])
    with torch.no_grad():
        logits = model.double()(torch.from_numpy(x))
    t = torch.from_numpy(y)
    margins = logits.gather(-1, t[..., None]).squeeze(-1) - logits.scatter(-1, t[..., None], -torch.inf).amax(
        -1
    )
    for proof in result.outputs:
        assert proof.min_margin <= float(margins[:, proof.output].min())
