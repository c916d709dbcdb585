"""Training: ensemble == each model alone, grouping, early stop, resume bit-identity, outputs, errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from circ.lang.errors import ConfigError
from circ.learn.data import make_split
from circ.learn.errors import UnknownTaskError
from circ.learn.model import load_model
from circ.learn.run import OptimConfig, Run, make_runs
from circ.learn.train import EvalEvent, RunResult, batch_generator, group_runs, train

SMALL = {"d_model": 32, "n_heads": 4, "d_mlp": 64}


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Models this small train fastest on one thread, and a busy machine is not oversubscribed."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def train_alone(run: Run, steps: int) -> dict[str, torch.Tensor]:
    """The reference: one plain model, one plain AdamW, no vmap, SDPA attention."""
    from circ.learn.model import build_model

    split = make_split(run.build_task(), run.frac, run.split_seed, run.n_samples)
    model = build_model(run.model, run.seed)
    o = run.optim
    opt = torch.optim.AdamW(
        model.parameters(), lr=o.lr, betas=(o.beta1, o.beta2), eps=o.eps, weight_decay=o.weight_decay
    )
    gen = batch_generator(run)
    for _ in range(steps):
        x, y = split.train_x, split.train_y
        if o.batch_size is not None:
            idx = torch.randint(x.shape[0], (o.batch_size,), generator=gen)
            x, y = x[idx], y[idx]
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {k: v.detach() for k, v in model.state_dict().items()}


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], atol: float = 1e-5) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert (a[k] - b[k]).abs().max().item() <= atol, k


@pytest.mark.parametrize("batch_size", [None, 8])
def test_ensemble_equals_training_each_model_alone(batch_size: int | None) -> None:
    runs = make_runs(
        ["mod_add", "mod_sub"],
        [0, 1, 2],
        params={"p": 7},
        model=SMALL,
        optim=OptimConfig(lr=3e-3, batch_size=batch_size),
        steps=20,
        eval_every=100,
    )
    assert len(group_runs(runs)) == 1  # same shapes: one vmap ensemble of six, two tasks
    for run, res in zip(runs, train(runs), strict=True):
        assert res.steps == 20
        assert_same_weights(res.state, train_alone(run, 20))


def test_heterogeneous_runs_form_groups_and_keep_their_order() -> None:
    runs = [
        *make_runs(["seq_succ"], [0], params={"n": 2}, model=SMALL, steps=3),
        *make_runs(["mod_add"], [0, 1], params={"p": 5}, model=SMALL, steps=3),
        *make_runs(["mod_add"], [2], params={"p": 5}, model={**SMALL, "d_model": 16}, steps=3),
    ]
    groups = group_runs(runs)
    assert [len(g) for g in groups] == [1, 2, 1]
    results = train(runs)
    assert [r.run for r in results] == runs
    assert results[3].state["embed.weight"].shape == (6, 16)


def test_members_that_reach_the_target_stop_and_match_their_solo_runs() -> None:
    runs = make_runs(
        ["seq_succ"],
        [0, 1, 2, 3],
        params={"n": 2},
        model=SMALL,
        optim=OptimConfig(lr=3e-3),
        frac=0.8,
        steps=300,
        eval_every=1,
        target_acc=1.0,
    )
    together = train(runs)
    assert all(r.stopped_early and r.final["val_acc"] == 1.0 for r in together)
    assert len({r.steps for r in together}) > 1  # they stop at different steps: the ensemble shrinks
    for run, res in zip(runs, together, strict=True):
        solo = train([run])[0]
        assert solo.steps == res.steps
        assert_same_weights(solo.state, res.state)


class Interrupt(Exception):
    pass


def interrupt_at(step: int) -> Callable[[EvalEvent], None]:
    def on_eval(event: EvalEvent) -> None:
        if event.step >= step:
            raise Interrupt

    return on_eval


@pytest.mark.parametrize(
    ("task", "params", "batch_size", "target", "every", "cut"),
    [
        ("mod_add", {"p": 7}, 8, None, 10, 35),  # minibatches: the generators' states must be restored
        # seeds stop at steps 32, 36, 37, 45: one has left the ensemble at the step-35 checkpoint
        ("seq_succ", {"n": 2}, None, 1.0, 5, 38),
    ],
)
def test_resume_gives_bit_identical_curves(
    tmp_path: Path,
    task: str,
    params: dict,
    batch_size: int | None,
    target: float | None,
    every: int,
    cut: int,
) -> None:
    optim = OptimConfig(lr=3e-3, batch_size=batch_size)
    runs = make_runs(
        [task],
        [0, 1, 2, 3],
        params=params,
        model=SMALL,
        optim=optim,
        frac=0.8,
        steps=60,
        eval_every=1,
        target_acc=target,
    )
    full = train(runs, out_dir=tmp_path / "full", ckpt_every=every)
    with pytest.raises(Interrupt):
        train(runs, out_dir=tmp_path / "cut", ckpt_every=every, on_eval=interrupt_at(cut))
    resumed = train(runs, out_dir=tmp_path / "cut", ckpt_every=every, resume=True)
    for a, b in zip(full, resumed, strict=True):
        assert a.curves == b.curves  # exact floats, not approximately
        assert a.steps == b.steps
        for k in a.state:
            assert torch.equal(a.state[k], b.state[k]), k
    again = train(runs, out_dir=tmp_path / "cut", resume=True)  # a finished group just reloads
    assert [r.curves for r in again] == [r.curves for r in full]


def test_tiny_mod7_addition_reaches_full_val_accuracy() -> None:
    # With 39 training examples, whether mod 7 generalises depends on the seed (measured: 3 of 8 seeds
    # within 3k steps at this setting; seeds 5 and 7 by steps 1090 and 180), so two of those train as one
    # ensemble and one perfect model is required.
    runs = make_runs(
        ["mod_add"],
        [5, 7],
        params={"p": 7},
        model={"d_model": 128, "d_mlp": 512},
        optim=OptimConfig(lr=1e-2),
        frac=0.8,
        steps=1500,
        eval_every=10,
        target_acc=1.0,
    )
    results = train(runs)
    assert any(r.final["val_acc"] == 1.0 and r.final["train_acc"] == 1.0 for r in results)


def test_outputs_curves_plot_and_loadable_weights(tmp_path: Path) -> None:
    runs = make_runs(["mod_add"], [0, 1], params={"p": 5}, model=SMALL, steps=12, eval_every=4)
    results: list[RunResult] = train(runs, out_dir=tmp_path)
    curves = json.loads((tmp_path / "curves.json").read_text())
    assert list(curves) == ["mod_add-p5-s0", "mod_add-p5-s1"]
    assert [r["step"] for r in curves["mod_add-p5-s0"]] == [0, 4, 8, 12]
    assert set(curves["mod_add-p5-s0"][0]) == {
        "step",
        "train_loss",
        "train_acc",
        "val_loss",
        "val_acc",
        "weight_norm",
        "spectrum_gini",  # a Mod[p] task: the embedding's Fourier sparsity
    }
    assert (tmp_path / "curves.png").stat().st_size > 10_000
    assert json.loads((tmp_path / "runs.json").read_text())[1]["name"] == "mod_add-p5-s1"
    model = load_model(tmp_path / "mod_add-p5-s1" / "model.safetensors")
    split = make_split(runs[1].build_task(), 0.5, 1)
    acc = (model(split.val_x).argmax(-1) == split.val_y).all(-1).float().mean().item()
    assert acc == pytest.approx(results[1].final["val_acc"])


def test_bad_runs_name_the_field() -> None:
    cases = [
        (lambda: make_runs(["mod_add"], [0], frac=1.5), "frac"),
        (lambda: make_runs(["mod_add"], [0], steps=0), "steps"),
        (lambda: make_runs(["mod_add"], [0], target_acc=2.0), "target_acc"),
        (lambda: make_runs(["mod_add"], [0], params={"n": 3}), "n"),
        (lambda: make_runs(["mod_add"], [0], model={"n_heads": 3}), "model.n_heads"),
        (lambda: make_runs(["mod_add"], [0], model={"dmodel": 3}), "model.dmodel"),
        (lambda: make_runs(["mod_add"], [0, 0]), "seeds"),
        (lambda: OptimConfig(lr=-1.0), "optim.lr"),
        (lambda: OptimConfig(beta2=1.0), "optim.beta2"),
        (lambda: OptimConfig(batch_size=0), "optim.batch_size"),
        (lambda: Run.from_dict({**make_runs(["mod_add"], [0])[0].to_dict(), "sedd": 1}), "sedd"),
    ]
    for make, field in cases:
        with pytest.raises(ConfigError) as e:
            make()
        assert e.value.field == field
    wrong = make_runs(["mod_add"], [0], params={"p": 7})[0].model
    with pytest.raises(ConfigError) as e:
        Run(task="mod_add", model=wrong, params=(("p", 11),))
    assert e.value.field == "model.vocab"
    with pytest.raises(UnknownTaskError, match="did you mean mod_add"):
        make_runs(["mod_ad"], [0])


def test_run_round_trips_through_json() -> None:
    run = make_runs(["grid_recolor"], [3], params={"h": 2, "w": 2, "a": 4}, model=SMALL, target_acc=0.9)[0]
    assert Run.from_dict(json.loads(json.dumps(run.to_dict()))) == run
    assert run.name == "grid_recolor-h2-w2-a4-b2-s3"
