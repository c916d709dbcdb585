"""Small circuits trained here in seconds, on domains small enough to enumerate (the bounds
prover's cross-check and the per-distribution evaluation)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from circ.learn.data import get_task
from circ.learn.data.task import Task
from circ.learn.model import CircuitTransformer, ModelConfig
from circ.learn.run import OptimConfig, Run
from circ.learn.train import train


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def trained(task: Task, steps: int, **sizes: int) -> CircuitTransformer:
    config = ModelConfig.for_interface(task.interface, **{"d_model": 32, "n_heads": 2, "d_mlp": 64, **sizes})
    run = Run(
        task=task.name,
        params=task.params,
        model=config,
        optim=OptimConfig(lr=1e-2, weight_decay=0.1),
        steps=steps,
        frac=1.0,
        margin=2.0,
    )
    (result,) = train([run])
    model = CircuitTransformer(config)
    model.load_state_dict(result.state)
    return model.eval()


@pytest.fixture(scope="session")
def reverse3() -> tuple[Task, CircuitTransformer]:
    """Seq[Color, 3] reversal, one layer, no LayerNorm: 1,000 inputs."""
    torch.set_num_threads(1)
    task = get_task("seq_reverse", n=3)
    return task, trained(task, 200)


@pytest.fixture(scope="session")
def reverse3_deep() -> tuple[Task, CircuitTransformer]:
    """The same task on two layers with LayerNorm: the interval bounder's case."""
    torch.set_num_threads(1)
    task = get_task("seq_reverse", n=3)
    return task, trained(task, 60, n_layers=2, layernorm=True)  # soundness needs no accuracy
