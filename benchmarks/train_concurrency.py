"""Model-steps/s of N circuits trained as one vmap ensemble vs a Python loop over N separate models.

Same task, same steps, same data per model, both with AdamW; prints the ratio per N. Not a test:
run `python benchmarks/train_concurrency.py [--threads T] [--steps S] [--sizes small grok]`.

Sizes: `small` is a circuit-sized model (d_model 32, d_mlp 128) on mod_add p=11 — the element and
small-modular circuits a program uses; `grok` is the grokking model (d_model 128, d_mlp 512) on
mod_add p=31 with 480 training examples, where each model's matmuls already fill the cores.
"""

from __future__ import annotations

import argparse
import os
import time

import torch
import torch.nn.functional as F

from circ.circuit.config import ModelConfig
from circ.learn.data import get_task, make_split
from circ.learn.ensemble import Ensemble
from circ.learn.model import build_model

SIZES = {
    "small": ({"p": 11}, {"d_model": 32, "n_heads": 4, "d_mlp": 128}),
    "grok": ({"p": 31}, {"d_model": 128, "n_heads": 4, "d_mlp": 512}),
}


def adamw(params: list[torch.Tensor]) -> torch.optim.AdamW:
    return torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.98), weight_decay=1.0)


def loop_rate(cfg: ModelConfig, xs: list[torch.Tensor], ys: list[torch.Tensor], steps: int) -> float:
    models = [build_model(cfg, i) for i in range(len(xs))]
    opts = [adamw(list(m.parameters())) for m in models]

    def step() -> None:
        for m, o, x, y in zip(models, opts, xs, ys, strict=True):
            loss = F.cross_entropy(m(x).flatten(0, 1), y.flatten())
            o.zero_grad(set_to_none=True)
            loss.backward()
            o.step()

    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return len(xs) * steps / (time.perf_counter() - start)


def ensemble_rate(cfg: ModelConfig, xs: list[torch.Tensor], ys: list[torch.Tensor], steps: int) -> float:
    ens = Ensemble.stack([build_model(cfg, i) for i in range(len(xs))])
    opt = adamw(list(ens.params.values()))
    x, y = torch.stack(xs), torch.stack(ys)

    def step() -> None:
        logits = ens(x)
        loss = F.cross_entropy(logits.flatten(0, 2), y.flatten(), reduction="none").view(y.shape)
        opt.zero_grad(set_to_none=True)
        loss.mean(dim=(1, 2)).sum().backward()
        opt.step()

    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return len(xs) * steps / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--n", type=int, nargs="+", default=[1, 8, 32, 64])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.steps} timed steps per measurement")
    for size in args.sizes:
        params, dims = SIZES[size]
        task = get_task("mod_add", **params)
        cfg = ModelConfig.for_interface(task.interface, **dims)
        print(f"\n[{size}] {task.key}, d_model {cfg.d_model}, d_mlp {cfg.d_mlp}, full batch")
        print(f"{'N':>4} {'loop model-steps/s':>20} {'vmap model-steps/s':>20} {'ratio':>7}")
        for n in args.n:
            splits = [make_split(task, 0.5, seed) for seed in range(n)]
            xs, ys = [s.train_x for s in splits], [s.train_y for s in splits]
            loop = loop_rate(cfg, xs, ys, args.steps)
            ens = ensemble_rate(cfg, xs, ys, args.steps)
            print(f"{n:>4} {loop:>20.1f} {ens:>20.1f} {ens / loop:>6.2f}×", flush=True)


if __name__ == "__main__":
    main()
