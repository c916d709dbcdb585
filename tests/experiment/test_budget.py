"""Parameter budgets: a program's distinct circuits counted once, and a monolith fitted under it."""

from __future__ import annotations

import pytest

from circ import api
from circ.experiment.budget import count_parameters, fit_budget, program_budget
from circ.experiment.programs import affine_chain, grid_chain
from circ.lang.errors import ConfigError
from circ.learn.data import get_task


def test_budget_counts_each_circuit_once(stdlib_catalog, tmp_path) -> None:
    path = tmp_path / "a.circ"
    path.write_text(affine_chain(3).source)
    budget = program_budget(api.compile(path).graph, stdlib_catalog)
    names = [name for name, _, _ in budget.circuits]
    assert names == ["mod97.add", "mod97.mul"]
    assert [calls for _, _, calls in budget.circuits] == [3, 3]
    assert budget.executed == 3 * budget.stored
    path.write_text(affine_chain(8).source)
    assert program_budget(api.compile(path).graph, stdlib_catalog).stored == budget.stored


def test_grid_chain_budget_grows_with_distinct_steps(stdlib_catalog, tmp_path) -> None:
    stored = []
    for d in (1, 2, 4):
        path = tmp_path / f"g{d}.circ"
        path.write_text(grid_chain(d).source)
        stored.append(program_budget(api.compile(path).graph, stdlib_catalog).stored)
    assert stored[0] < stored[1] < stored[2]


@pytest.mark.parametrize("budget", [20_000, 124_288, 500_000])
def test_fit_budget_lands_just_under(budget: int) -> None:
    iface = get_task("mod_affine_chain", p=97, d=4).interface
    cfg = fit_budget(iface, budget, n_layers=1, d_head=16, mlp_ratio=4)
    n = count_parameters(cfg)
    assert n <= budget
    assert budget - n <= 2 * cfg.d_model + 1  # within one MLP column
    assert cfg.d_model % 16 == 0 and cfg.d_mlp >= 4 * cfg.d_model


def test_fit_budget_refuses_a_budget_too_small() -> None:
    iface = get_task("mod_affine_chain", p=97, d=4).interface
    with pytest.raises(ConfigError, match="budget"):
        fit_budget(iface, 1000)
