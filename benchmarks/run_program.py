"""Rows/s of the batched torch runtime vs a naive interpreter that calls each circuit once per row.

Both run the same 5-circuit program with the same trained weights over its whole domain (10^4 rows)
and must give identical outputs. The circuits are two colour circuits trained here first (seconds).
Run: python benchmarks/run_program.py
"""

from __future__ import annotations

import platform
import time

import torch

from circ import api
from circ.circuit.config import ModelConfig
from circ.circuit.provider import LoadedCircuit, ModelsProvider
from circ.learn.data import get_task
from circ.learn.model import CircuitTransformer
from circ.learn.run import OptimConfig, Run
from circ.learn.train import train
from circ.runtime.execute import execute
from circ.runtime.torch_backend import TorchBackend
from circ.runtime.values import domain_batch

PROGRAM = """
circuit plus(a: Color, b: Color) -> Color learned "color.add";
circuit bigger(a: Color, b: Color) -> Color learned "color.max";
fn main(a: Color, b: Color, c: Color, d: Color) -> Color {
  bigger(plus(plus(a, b), c), bigger(plus(c, d), a))
}
"""


def trained_provider() -> ModelsProvider:
    tasks = {"color.add": "color_add", "color.max": "color_max"}
    runs = [
        Run(
            task=t,
            model=ModelConfig.for_interface(get_task(t).interface, d_model=32, n_heads=2, d_mlp=64),
            optim=OptimConfig(lr=1e-2, weight_decay=0.1),
            steps=800,
            frac=1.0,
            target_acc=1.0,
            eval_every=20,
        )
        for t in tasks.values()
    ]
    models = {}
    for (name, task), result in zip(tasks.items(), train(runs), strict=True):
        model = CircuitTransformer(result.run.model)
        model.load_state_dict(result.state)
        models[name] = LoadedCircuit(get_task(task).interface, model.eval())
    return ModelsProvider(models)


def main() -> None:
    torch.set_num_threads(1)
    compiled = api.compile("bench.circ", source=PROGRAM)
    graph = compiled.graph
    inputs = domain_batch(compiled.params)
    rows = inputs[0].shape[0]
    backend = TorchBackend(trained_provider())
    backend.prepare(graph)

    start = time.perf_counter()
    batched = execute(graph, inputs, backend).output
    batched_s = time.perf_counter() - start

    start = time.perf_counter()
    naive = torch.cat([execute(graph, [x[i : i + 1] for x in inputs], backend).output for i in range(rows)])
    naive_s = time.perf_counter() - start

    assert torch.equal(batched, naive), "the batched and per-row runs disagree"
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread")
    print(f"program: 5 circuit calls per row, {rows:,} rows (the whole domain)")
    print(f"batched runtime : {rows / batched_s:12,.0f} rows/s  ({batched_s:.3f} s)")
    print(f"naive per row   : {rows / naive_s:12,.0f} rows/s  ({naive_s:.3f} s)")
    print(f"ratio           : {naive_s / batched_s:12,.1f}x  (target >= 30x)")


if __name__ == "__main__":
    main()
