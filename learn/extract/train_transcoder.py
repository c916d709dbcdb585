"""Training transcoders on a circuit's own activations, and measuring them on its whole domain.

The data is what each MLP reads and writes on the domain's inputs (a seeded sample of at most
`TRAIN_ROWS` inputs for training; every input for the report), at the positions the model computes
there: every position below the last layer, the read positions in it. The loss, per output layer, is
the fraction of variance unexplained (FVU) plus λ · Σ_f f · ‖W_dec,f‖ (Anthropic's decoder-norm-weighted
L1, 2024), divided by the output's RMS size so that one λ means the same on every circuit. `topk`
transcoders get no L1: k sets their sparsity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from circ.lang.errors import ConfigError
from circ.learn.extract.domain import BATCH, Domain
from circ.learn.extract.replacement import replaced
from circ.learn.extract.transcoder import TranscoderConfig, Transcoders
from circ.learn.model import CircuitTransformer

TRAIN_ROWS = 1 << 15


@dataclass(frozen=True)
class TrainOptions:
    steps: int = 3000
    lr: float = 3e-3
    l1: float = 3e-3  # λ above (standard architecture only)
    kl: float = 0.0  # weight of KL(model ‖ replacement) on the logits: trains for the answers too
    batch: int = 1024  # inputs per step (each with its positions)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(name, f"must be a positive integer, got {value!r}")
        for name in ("lr", "l1", "kl"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ConfigError(name, f"must be a non-negative number, got {value!r}")
        if self.lr == 0:
            raise ConfigError("lr", "must be positive, got 0")


@torch.no_grad()
def mlp_io(model: CircuitTransformer, tokens: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Per layer, what its MLP reads and writes: ([N, pos_l, d_model] inputs, outputs)."""
    ins: dict[int, torch.Tensor] = {}
    outs: dict[int, torch.Tensor] = {}

    def keep(layer: int):
        def hook(_module, args, out) -> None:  # returning None leaves the output alone
            ins[layer], outs[layer] = args[0], out

        return hook

    handles = [block.mlp.register_forward_hook(keep(i)) for i, block in enumerate(model.blocks)]
    try:
        model(tokens)
    finally:
        for handle in handles:
            handle.remove()
    n = model.cfg.n_layers
    return [ins[i] for i in range(n)], [outs[i] for i in range(n)]


def _batched_io(
    model: CircuitTransformer, tokens: torch.Tensor
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    parts = [mlp_io(model, tokens[s : s + BATCH]) for s in range(0, tokens.shape[0], BATCH)]
    n = model.cfg.n_layers
    return [torch.cat([p[0][i] for p in parts]) for i in range(n)], [
        torch.cat([p[1][i] for p in parts]) for i in range(n)
    ]


def train_transcoders(
    model: CircuitTransformer,
    domain: Domain,
    cfg: TranscoderConfig,
    options: TrainOptions = TrainOptions(),
    on_step: Callable[[int, float], None] | None = None,
) -> Transcoders:
    """Fit `cfg`'s transcoders to `model`'s MLPs on (a sample of) `domain`; `on_step(step, loss)`."""
    torch.manual_seed(options.seed)
    rows = domain.sample(TRAIN_ROWS, seed=options.seed)
    xs, ys = _batched_io(model, rows.tokens)
    if options.kl > 0:
        with torch.no_grad():
            teacher = torch.cat([model(rows.tokens[s : s + BATCH]) for s in range(0, rows.size, BATCH)])
        teacher = teacher.log_softmax(-1)
    scale = [((y - y.mean((0, 1))) ** 2).sum(-1).mean() for y in ys]  # per layer: E‖y − ȳ‖²
    rms = torch.stack(scale).sqrt().mean()
    tc = Transcoders(cfg).init(options.seed)
    with torch.no_grad():
        for layer, y in enumerate(ys):
            tc.b_dec[layer].copy_(y.mean((0, 1)))
    opt = torch.optim.Adam(tc.parameters(), lr=options.lr)
    gen = torch.Generator().manual_seed(options.seed)
    n = rows.size
    for step in range(options.steps):
        idx = (
            torch.randint(n, (min(options.batch, n),), generator=gen)
            if options.batch < n
            else torch.arange(n)
        )
        acts = {layer: tc.encode(layer, x[idx]) for layer, x in enumerate(xs)}
        loss = torch.zeros(())
        for layer, y in enumerate(ys):
            err = ((tc.decode(layer, acts) - y[idx]) ** 2).sum(-1).mean()
            loss = loss + err / scale[layer]
        if cfg.architecture == "standard" and options.l1 > 0:
            for layer, f in acts.items():
                loss = loss + options.l1 * (f * tc.decoder_norms(layer)).sum(-1).mean() / rms
        if options.kl > 0:
            with replaced(model, tc):
                student = model(rows.tokens[idx]).log_softmax(-1)
            kl = (teacher[idx].exp() * (teacher[idx] - student)).sum(-1).mean()
            loss = loss + options.kl * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        if on_step is not None and (step % 50 == 0 or step == options.steps - 1):
            on_step(step, float(loss.detach()))
    return tc.eval()


@dataclass(frozen=True)
class LayerReport:
    layer: int
    fvu: float  # fraction of the MLP output's variance the transcoder does not explain
    mse: float  # mean over positions of ‖y − ŷ‖²
    l0: float  # mean number of active features per position
    dead: int  # features never active on the whole domain
    max_active: int  # most features active at one position
    max_positive: int  # most positive pre-activations at one position (topk ≡ ReLU when ≤ k)

    def to_dict(self) -> dict[str, float | int]:
        return {
            "layer": self.layer,
            "fvu": round(self.fvu, 6),
            "mse": round(self.mse, 8),
            "l0": round(self.l0, 3),
            "dead": self.dead,
            "max_active": self.max_active,
            "max_positive": self.max_positive,
        }


@torch.no_grad()
def measure(model: CircuitTransformer, tc: Transcoders, domain: Domain) -> list[LayerReport]:
    """Reconstruction, L0 and dead features of each layer on every input of `domain`, with the
    original model's MLP inputs (teacher-forced, as the transcoders were trained)."""
    n_layers, d_sae = tc.cfg.n_layers, tc.cfg.d_sae
    sq_err = torch.zeros(n_layers, dtype=torch.float64)
    total = torch.zeros(n_layers, dtype=torch.float64)
    y_sum = [torch.zeros(tc.cfg.d_out, dtype=torch.float64) for _ in range(n_layers)]
    y_sq = torch.zeros(n_layers, dtype=torch.float64)
    active = torch.zeros(n_layers, dtype=torch.float64)
    ever = torch.zeros(n_layers, d_sae, dtype=torch.bool)
    max_active = [0] * n_layers
    max_positive = [0] * n_layers
    for start in range(0, domain.size, BATCH):
        xs, ys = mlp_io(model, domain.tokens[start : start + BATCH])
        pre = {layer: tc.pre_activations(layer, x) for layer, x in enumerate(xs)}
        acts = {layer: tc.activate(p) for layer, p in pre.items()}
        for layer, y in enumerate(ys):
            err = tc.decode(layer, acts) - y
            sq_err[layer] += float((err.double() ** 2).sum())
            total[layer] += y.shape[0] * y.shape[1]
            y_sum[layer] += y.double().sum((0, 1))
            y_sq[layer] += float((y.double() ** 2).sum())
            on = acts[layer] > 0
            active[layer] += float(on.sum())
            ever[layer] |= on.flatten(0, 1).any(0)
            max_active[layer] = max(max_active[layer], int(on.sum(-1).max()))
            max_positive[layer] = max(max_positive[layer], int((pre[layer] > 0).sum(-1).max()))
    reports = []
    for layer in range(n_layers):
        variance = y_sq[layer] - float((y_sum[layer] ** 2).sum()) / total[layer]
        reports.append(
            LayerReport(
                layer,
                float(sq_err[layer] / variance) if variance > 0 else 0.0,
                float(sq_err[layer] / total[layer]),
                float(active[layer] / total[layer]),
                int((~ever[layer]).sum()),
                max_active[layer],
                max_positive[layer],
            )
        )
    return reports
