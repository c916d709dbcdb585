"""The folded block's tables: reused only while their weights and queries are the same, refused
where fixed shifts could underflow, differentiable, and oneDNN's linear giving the module's output."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from circ.circuit.config import ModelConfig
from circ.learn import folded
from circ.learn.data import get_task
from circ.learn.model import BF16_ROWS, build_model


def config(n_out_of_six: bool = True, **sizes: object) -> ModelConfig:
    task = get_task("seq_reverse", n=6) if n_out_of_six else get_task("seq_max", n=6)
    return ModelConfig.for_interface(task.interface, **{"d_model": 32, "n_heads": 4, "d_mlp": 64, **sizes})


def tokens(cfg: ModelConfig, batch: int = 32, seed: int = 0, query: int | None = None) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, cfg.vocab - 1, (batch, cfg.n_positions), generator=g)
    x[:, cfg.n_positions - cfg.n_out :] = cfg.vocab - 1 if query is None else query
    return x


def agrees(model: nn.Module, x: torch.Tensor) -> None:
    torch.testing.assert_close(model(x, attn_impl="folded"), model(x, attn_impl="sdpa"), atol=2e-5, rtol=2e-5)


@pytest.mark.parametrize("several", [True, False])
def test_kept_tables_follow_every_change_of_weights_or_queries(several: bool) -> None:
    model = build_model(config(several), seed=2)
    x = tokens(model.cfg)
    with torch.no_grad():
        agrees(model, x)
        kept = model._folded_tables
        agrees(model, x)
        assert model._folded_tables is kept  # same weights, same queries: reused
        model.blocks[0].attn.v.weight.data.mul_(-2)  # a write no version counter sees
        agrees(model, x)
        model.blocks[0].mlp.fc_in.weight.data.mul_(-1)  # folded into the bag
        agrees(model, x)
        model.blocks[0].mlp.fc_out.weight.data.mul_(-1)  # folded into the readout
        agrees(model, x)
        model.unembed.weight.data.add_(0.5)
        agrees(model, x)
        model.load_state_dict(build_model(model.cfg, seed=3).state_dict())
        agrees(model, x)
        agrees(model, tokens(model.cfg, query=0))  # other query tokens, the same in every row
        assert model._folded_tables is not kept


def test_tables_are_not_kept_under_grad_and_gradients_flow() -> None:
    model = build_model(config(), seed=1)
    x = tokens(model.cfg, batch=8)
    model(x, attn_impl="folded").square().sum().backward()
    assert getattr(model, "_folded_tables", None) is None
    through = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad()
    model(x, attn_impl="sdpa").square().sum().backward()
    for name, p in model.named_parameters():
        torch.testing.assert_close(through[name], p.grad, atol=1e-4, rtol=1e-4, msg=name)


class Scaled(nn.Module):
    """A stand-in for an adapter: its output changes with a setting, not with its weights."""

    def __init__(self, inner: nn.Linear) -> None:
        super().__init__()
        self.inner, self.factor = inner, 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x) * self.factor


def test_tables_through_an_adapter_are_recomputed_every_call() -> None:
    model = build_model(config(), seed=4)
    model.blocks[0].attn.q = Scaled(model.blocks[0].attn.q)
    x = tokens(model.cfg)
    with torch.no_grad():
        agrees(model, x)
        model.blocks[0].attn.q.factor = 3.0
        agrees(model, x)
    assert getattr(model, "_folded_tables", None) is None


def test_scores_too_spread_for_fixed_shifts_take_the_ordinary_path() -> None:
    model = build_model(config(), seed=5)
    x = tokens(model.cfg)
    with torch.no_grad():
        model.blocks[0].attn.q.weight.mul_(200)  # scores in the thousands: exp(s − M) would vanish
        assert folded.tables(model, x[0, -model.cfg.n_out :]) is None
        assert torch.equal(model(x, attn_impl="folded"), model(x, attn_impl="auto"))
        assert torch.isfinite(model(x, attn_impl="folded")).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize(
    ("rows", "n_in", "n_out", "relu"),
    [(6144, 64, 128, True), (6144, 128, 64, False), (6144, 64, 10, False), (7, 32, 64, True)],
)
def test_onednn_linear_gives_the_modules_output(
    dtype: torch.dtype, rows: int, n_in: int, n_out: int, relu: bool
) -> None:
    assert folded.ONEDNN is not None  # this CPU build has it: the fast path is what is tested here
    torch.manual_seed(0)
    module = nn.Linear(n_in, n_out, bias=n_out != 10).to(dtype)
    x = torch.randn(rows, n_in).to(dtype)
    with torch.no_grad():
        expected = module(x).relu() if relu else module(x)
        torch.testing.assert_close(folded.linear(module, x, relu=relu), expected)


def test_linear_runs_the_module_where_it_is_watched_or_trained() -> None:
    module, seen = nn.Linear(8, 4), []
    module.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    with torch.no_grad():
        folded.linear(module, torch.randn(3, 8))
    assert seen == [torch.Size([3, 4])]
    assert folded.linear(nn.Linear(8, 4), torch.randn(3, 8)).requires_grad


def test_hooks_on_the_mlp_and_readout_run_and_their_outputs_are_left_alone() -> None:
    model = build_model(config(), seed=6)
    x, seen = tokens(model.cfg), []
    fc_in, fc_out = model.blocks[0].mlp.fc_in, model.blocks[0].mlp.fc_out
    for module in (fc_in, fc_out, model.unembed):  # each keeps a copy of its output and the output
        module.register_forward_hook(lambda m, i, o: seen.append((m, o, o.clone())))
    with torch.no_grad():
        agrees(model, x)
    assert [m for m, _, _ in seen[:3]] == [fc_in, fc_out, model.unembed]
    for _, output, copy in seen:
        assert torch.equal(output, copy)  # nothing wrote into an output a hook was shown


@pytest.mark.parametrize("layernorm", [False, True])
def test_the_mlp_is_folded_into_the_tables_only_without_layernorms(layernorm: bool) -> None:
    model = build_model(config(layernorm=layernorm), seed=7)
    x = tokens(model.cfg)
    with torch.no_grad():
        kept = folded.tables(model, x[0, -model.cfg.n_out :])
        assert kept is not None and (kept.bag is None) == layernorm
        agrees(model, x)


@pytest.mark.parametrize("d_mlp", [64, 86])  # bag widths 64 + 10 → 80, and 86 + 10 = 96 as it is
def test_the_bag_is_padded_with_zero_columns_that_change_no_logit(
    d_mlp: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = build_model(config(d_mlp=d_mlp), seed=8)
    x = tokens(model.cfg, batch=64)
    out_vocab = model.cfg.out_vocab
    with torch.no_grad():
        kept = folded.tables(model, x[0, -model.cfg.n_out :])
        assert kept is not None and kept.bag is not None and kept.readout is not None
        width = kept.bag.shape[1]
        assert width % 16 == 0 and width - (d_mlp + out_vocab) < 16  # 16 fp32: one AVX-512 register
        padding = slice(d_mlp, width - out_vocab)
        assert not kept.bag[:, padding].any() and not kept.readout[:, padding].any()
        padded = model(x, attn_impl="folded")
        monkeypatch.setattr(folded, "BAG_COLUMNS", 1)
        del model._folded_tables
        plain = folded.tables(model, x[0, -model.cfg.n_out :])
        assert plain is not None and plain.bag is not None and plain.bag.shape[1] == d_mlp + out_vocab
        assert torch.equal(model(x, attn_impl="folded"), padded)  # bit for bit


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("layernorm", [False, True])
def test_a_tall_batch_runs_in_passes_of_rows_with_the_logits_of_those_passes(
    dtype: torch.dtype, layernorm: bool
) -> None:
    """A chunk's logits are, bit for bit, those of `ROWS`-row calls: the passes certificates saw
    (and, in bf16, the slabs a bf16 forward runs: the model hands the folded path its padded rows)."""
    assert folded.ROWS == BF16_ROWS
    model = build_model(config(layernorm=layernorm), seed=9).to(dtype)
    x = tokens(model.cfg, batch=2 * folded.ROWS + 300, seed=4)
    with torch.no_grad():
        tall = model(x, attn_impl="folded")
        passes = torch.cat([model(part, attn_impl="folded") for part in x.split(folded.ROWS)])
    assert torch.equal(tall, passes)


def test_a_refused_fold_runs_the_ordinary_path_in_the_same_passes() -> None:
    """A hook inside makes the fold refuse; the caller still passed a whole chunk, so the ordinary
    path runs it `ROWS` rows at a time, as the runtime's network passes did."""
    model = build_model(config(), seed=10)
    x = tokens(model.cfg, batch=2 * folded.ROWS + 300, seed=5)
    seen: list[int] = []
    model.hook_embed.register_forward_hook(lambda m, i, o: seen.append(o.shape[0]))
    with torch.no_grad():
        tall = model(x, attn_impl="folded")
        passes = torch.cat([model(part, attn_impl="sdpa") for part in x.split(folded.ROWS)])
    assert seen[:3] == [folded.ROWS, folded.ROWS, 300]
    assert torch.equal(tall, passes)
