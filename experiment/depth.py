"""`run_experiment`: the experiment as its list of stages.

programs → budgets → monoliths trained (one `circ.learn.train` call per budget multiple, so Ray
can spread every group) → per point: test sets, the monolith's seeds scored, the composed
program run and verified → one `ExperimentResult`.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from circ import api
from circ.experiment.budget import Budget, count_parameters, program_budget
from circ.experiment.composed import run_composed
from circ.experiment.config import ExperimentConfig
from circ.experiment.monolith import accuracy, monolith_config, monolith_runs, training_inputs
from circ.experiment.points import Point, points
from circ.experiment.programs import Program
from circ.experiment.results import Composed, ExperimentResult, Monolith, PointResult
from circ.experiment.testsets import test_sets
from circ.learn.catalog import Catalog
from circ.learn.data import get_task
from circ.learn.train import OnEval, RunResult, train

OnStage = Callable[[str], None]


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": gpu,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "load_average_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def recipe_cost(names: list[str]) -> tuple[int | None, int | None]:
    """The most steps and training examples any of these circuits' stdlib recipes has."""
    from circ.stdlib_build import RECIPES

    steps, examples = [], []
    for name in names:
        recipe = RECIPES.get(name)
        if recipe is None:
            continue
        task = get_task(recipe.task, **dict(recipe.params))
        pool = recipe.n_samples or task.domain_size
        steps.append(recipe.steps)
        examples.append(pool if recipe.frac == 1.0 else round(recipe.frac * pool))
    return (max(steps) if steps else None), (max(examples) if examples else None)


def _offset(on_eval: OnEval | None, by: int) -> OnEval | None:
    """Group numbers restart at 0 in each `train` call; a display keyed by group needs them apart."""
    if on_eval is None:
        return None
    return lambda event: on_eval(replace(event, group=event.group + by))


def run_experiment(
    config: ExperimentConfig,
    catalog: Catalog,
    out_dir: Path,
    *,
    device: str = "cpu",
    ray: str | None = None,
    on_stage: OnStage | None = None,
    on_eval: OnEval | None = None,
) -> ExperimentResult:
    """Everything the experiment writes beside its result goes under `out_dir`: the generated
    programs (`programs/`) and each budget's training output (`monolith/x1/` …: weights, curves)."""
    say = on_stage or (lambda _: None)
    started, start = datetime.now(UTC).isoformat(timespec="seconds"), time.perf_counter()
    machine = machine_info()
    pts = points(config)
    folder = out_dir / "programs"
    folder.mkdir(parents=True, exist_ok=True)
    paths, budgets = {}, {}
    say(f"compiling {len(pts)} generated programs and reading their circuits' budgets")
    for program in _programs(pts):
        paths[program.name] = folder / f"{program.name}.circ"
        paths[program.name].write_text(program.source)
        budgets[program.name] = program_budget(api.compile(paths[program.name]).graph, catalog)

    trainings = list({p.trains.name: (p.trains, p.domain) for p in pts}.values())
    trained: dict[tuple[str, int], list[RunResult]] = {}
    offset = 0
    for factor in config.budget_factors:
        runs, owners = [], []
        for program, domain in trainings:
            training = getattr(config, domain)
            cfg = monolith_config(program, budgets[program.name], factor, training)
            made = monolith_runs(program, cfg, training, config.seeds)
            runs += made
            owners += [program.name] * len(made)
        say(f"training {len(runs)} monoliths at {factor}× the circuits' parameters ({len(trainings)} tasks)")
        results = train(
            runs,
            out_dir=out_dir / "monolith" / f"x{factor}",
            device=device,
            ray=ray,
            on_eval=_offset(on_eval, offset),
        )
        offset += len(runs)
        for owner, result in zip(owners, results, strict=True):
            trained.setdefault((owner, factor), []).append(result)

    found = []
    for point in pts:
        say(f"scoring {point.label}")
        found.append(_score(point, config, catalog, paths, budgets, trained, device))
    machine["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    return ExperimentResult(asdict(config), machine, started, time.perf_counter() - start, tuple(found))


def _programs(pts: list[Point]) -> list[Program]:
    seen: dict[str, Program] = {}
    for p in pts:
        seen.setdefault(p.program.name, p.program)
        seen.setdefault(p.trains.name, p.trains)
    return list(seen.values())


def _score(
    point: Point,
    config: ExperimentConfig,
    catalog: Catalog,
    paths: dict[str, Path],
    budgets: dict[str, Budget],
    trained: dict[tuple[str, int], list[RunResult]],
    device: str,
) -> PointResult:
    first = trained[(point.trains.name, config.budget_factors[0])][0]
    train = training_inputs(first.run)  # every seed and budget of a point trains on the same data
    sets = test_sets(point, config, train)
    task = point.program.build_task()
    monoliths = []
    for factor in config.budget_factors:
        seeds = trained[(point.trains.name, factor)]
        cfg = seeds[0].run.model
        scored = {
            s.name: tuple(accuracy(r.state, cfg, task, s.inputs, s.expected, device) for r in seeds)
            for s in sets
            if s.monolith
        }
        monoliths.append(
            Monolith(
                factor=factor,
                params=count_parameters(cfg),
                config={k: getattr(cfg, k) for k in ("d_model", "n_heads", "d_mlp", "n_layers")},
                seeds=tuple(r.run.seed for r in seeds),
                steps=tuple(r.steps for r in seeds),
                train_examples=len(train[0]),
                accuracy=scored,
                rows={s.name: s.rows for s in sets if s.monolith},
                train_s=seeds[0].wall_s,
            )
        )
    budget = budgets[point.program.name]
    composed = run_composed(point, paths[point.program.name], sets, catalog, config.verify_examples, device)
    steps, examples = recipe_cost([name for name, _, _ in budget.circuits])
    return PointResult(
        series=point.series,
        axis=point.axis,
        x=point.x,
        program=str(paths[point.program.name]),
        tests={s.name: s.kind for s in sets},
        composed=Composed(
            right=composed.right,
            verdict=composed.verdict,
            circuits=budget.circuits,
            stored=budgets[point.trains.name].stored,
            executed=budget.executed,
            recipe_steps=steps,
            recipe_examples=examples,
            run_s=composed.run_s,
            verify_s=composed.verify_s,
        ),
        monoliths=tuple(monoliths),
        seen={s.name: s.seen for s in sets if s.seen},
    )
