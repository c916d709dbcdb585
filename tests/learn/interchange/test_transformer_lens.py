"""TransformerLens interchange: a circuit exported to a `HookedTransformer` gives circ's logits (to
float32 rounding; to 1e-9 in float64) and answers on the whole domain, its weights come back bit for
bit, and a model trained in TransformerLens becomes a certified circuit. TransformerLens is the `tl`
extra, which CI installs: this module fails, never skips, without it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformer_lens import HookedTransformer, HookedTransformerConfig

from circ.circuit.config import ModelConfig
from circ.learn.catalog import Catalog
from circ.learn.data import get_task, task_from_key
from circ.learn.data.domain import enumerate_inputs, sample_inputs
from circ.learn.data.split import examples
from circ.learn.interchange.tl_directory import (
    add_from_transformer_lens,
    export_transformer_lens,
    read_transformer_lens,
)
from circ.learn.interchange.transformer_lens import (
    InterchangeError,
    from_tl,
    hooked_transformer,
    tl_config,
    to_tl,
)
from circ.learn.model import CircuitTransformer, build_model
from circ.settings import packaged_catalog_dir
from circ.verify.certify import certify

torch.set_num_threads(1)
pytestmark = pytest.mark.filterwarnings("ignore:HookedTransformer is deprecated:DeprecationWarning")


@pytest.fixture
def catalog(tmp_path: Path):
    with Catalog("sqlite://", tmp_path / "blobs", packaged=packaged_catalog_dir()) as c:
        yield c


def _read(tl: HookedTransformer, model: CircuitTransformer, tokens: torch.Tensor) -> tuple[torch.Tensor, ...]:
    with torch.no_grad():
        return tl(tokens)[:, -model.cfg.n_out :], model(tokens)


def test_a_shipped_circuit_gives_circs_logits_in_transformer_lens_on_its_whole_domain(
    catalog: Catalog, tmp_path: Path
) -> None:
    record = export_transformer_lens(catalog, "mod97.add", tmp_path / "tl")
    # what a TransformerLens user does with the directory
    cfg = HookedTransformerConfig(**json.loads((tmp_path / "tl" / "config.json").read_text()))
    tl = HookedTransformer(cfg)
    tl.load_state_dict(load_file(tmp_path / "tl" / "model.safetensors"), strict=True)
    model = catalog.load_model("mod97.add")
    task = task_from_key(record.task)
    x, y = (torch.from_numpy(a) for a in examples(task, enumerate_inputs(task)))
    theirs, ours = _read(tl.eval(), model, x)
    assert x.shape[0] == 97 * 97
    assert torch.equal(theirs.argmax(-1), ours.argmax(-1))  # the same answer on every input …
    assert torch.equal(ours.argmax(-1), y)  # … which is the right one
    assert (theirs - ours).abs().max().item() < 1e-4  # float32 rounding: measured 1.3e-5 on |logit| ≤ 40
    theirs64, ours64 = _read(tl.to(torch.float64), model.to(torch.float64), x)
    assert (theirs64 - ours64).abs().max().item() < 1e-9  # the same function, not an approximation of it

    # and back: the same tensors, so the catalogued circuit itself (no new version)
    assert add_from_transformer_lens(catalog, tmp_path / "tl") == catalog.get(record.ref)
    circuit = json.loads((tmp_path / "tl" / "circ.json").read_text())
    assert circuit["task"] == "mod_add[p=97]" and circuit["interface"]["read_positions"] == [2]


@pytest.mark.parametrize(
    "sizes",
    [
        {"layernorm": True, "causal": False, "n_layers": 2},  # encoder, LayerNorm, two blocks
        {"layernorm": False, "causal": True, "n_layers": 3, "n_heads": 4},
    ],
)
def test_every_architecture_round_trips_bit_for_bit_and_agrees_in_float64(sizes: dict) -> None:
    cfg = ModelConfig(vocab=11, n_positions=8, out_vocab=10, n_out=4, d_model=32, d_mlp=64, **sizes)
    model = build_model(cfg, seed=3).eval()
    with torch.no_grad():  # nonzero LayerNorm and MLP biases, so every tensor is exercised
        for name, p in model.named_parameters():
            if name.endswith("bias") or ".ln" in name or name.startswith("ln_"):
                p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(len(name))) * 0.1)
    state = model.state_dict()
    back = from_tl(to_tl(state, cfg), cfg)
    assert back.keys() == state.keys() and all(torch.equal(back[k], state[k]) for k in state)
    tl = hooked_transformer(cfg, state)
    tokens = torch.randint(0, 11, (256, 8), generator=torch.Generator().manual_seed(0))
    theirs, ours = _read(tl.to(torch.float64), model.to(torch.float64), tokens)
    assert (theirs - ours).abs().max().item() < 1e-9


def test_a_grid_circuit_agrees_on_a_sample(catalog: Catalog) -> None:
    """Grid domains are 10^25: a seeded sample of 2,000 grids, labelled as the sample it is."""
    model = catalog.load_model("grid5.rot90")
    task = get_task("grid_rot90", h=5, w=5)
    x, _ = examples(task, sample_inputs(task, 2000, np.random.default_rng(0)))
    theirs, ours = _read(hooked_transformer(model.cfg, model.state_dict()), model, torch.from_numpy(x))
    assert torch.equal(theirs.argmax(-1), ours.argmax(-1))
    assert (theirs - ours).abs().max().item() < 1e-4


def _train_in_transformer_lens(directory: Path) -> HookedTransformer:
    """color_succ in TransformerLens, in circ's token layout (`c =` → c + 1 mod 10), with b_Q and b_U
    frozen at zero and the other biases trained from nonzero values (so importing must fold them)."""
    task = get_task("color_succ")
    cfg = HookedTransformerConfig(
        **{**tl_config(ModelConfig.for_interface(task.interface, d_model=32, n_heads=2, d_mlp=64)), "seed": 0}
    )
    tl = HookedTransformer(cfg)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name in ("b_K", "b_V", "b_O"):
            p = getattr(tl.blocks[0].attn, name)
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    tl.blocks[0].attn.b_Q.requires_grad_(False)
    tl.unembed.b_U.requires_grad_(False)
    x, y = (torch.from_numpy(a) for a in examples(task, enumerate_inputs(task)))
    opt = torch.optim.AdamW([p for p in tl.parameters() if p.requires_grad], lr=1e-2, weight_decay=0.1)
    for _ in range(300):
        loss = torch.nn.functional.cross_entropy(tl(x)[:, -1], y[:, 0])
        opt.zero_grad()
        loss.backward()
        opt.step()
    directory.mkdir()
    (directory / "config.json").write_text(
        json.dumps(tl_config(ModelConfig.for_interface(task.interface, d_model=32, n_heads=2, d_mlp=64)))
    )
    torch.save(tl.state_dict(), directory / "model.pt")
    return tl.eval()


def test_a_model_trained_in_transformer_lens_becomes_a_certified_circuit(
    catalog: Catalog, tmp_path: Path
) -> None:
    tl = _train_in_transformer_lens(tmp_path / "theirs")
    assert tl.blocks[0].attn.b_O.abs().max() > 0.01  # there is something to fold
    with pytest.raises(InterchangeError, match="task"):
        add_from_transformer_lens(catalog, tmp_path / "theirs", name="tl.succ")
    record = add_from_transformer_lens(catalog, tmp_path / "theirs", name="tl.succ", task="color_succ")
    assert record.contract == "ensures result == (c + 1) % 10"  # from the shipped circuit of that task
    cert = certify(catalog, record.ref)
    assert cert.certified and cert.n_checked == 10
    model = catalog.load_model(record.ref)
    tokens = torch.tensor([[c, 10] for c in range(10)])
    theirs, ours = _read(tl.to(torch.float64), model.to(torch.float64), tokens)
    # b_K dropped, b_V and b_O folded: exact but for the float32 rounding of the folded biases
    assert (theirs - ours).abs().max().item() < 1e-5


def _directory(tmp_path: Path, catalog: Catalog, ref: str = "color.succ") -> Path:
    export_transformer_lens(catalog, ref, tmp_path / "tl")
    return tmp_path / "tl"


def test_what_circ_cannot_hold_is_named(catalog: Catalog, tmp_path: Path) -> None:
    d = _directory(tmp_path, catalog)
    config = json.loads((d / "config.json").read_text())
    state = load_file(d / "model.safetensors")

    def attempt(**changes: object) -> str:
        (d / "config.json").write_text(json.dumps({**config, **changes.pop("cfg", {})}))  # type: ignore[dict-item]
        torch.save({**state, **changes}, d / "model.pt")
        (d / "model.safetensors").unlink(missing_ok=True)
        with pytest.raises(InterchangeError) as err:
            add_from_transformer_lens(catalog, d, name="x")
        return str(err.value)

    assert "config.gated_mlp" in attempt(cfg={"gated_mlp": True})
    assert "config.act_fn" in attempt(cfg={"act_fn": "gelu"})
    assert "blocks.0.attn.b_Q" in attempt(**{"blocks.0.attn.b_Q": torch.ones(2, 16)})
    assert "unembed.b_U" in attempt(**{"unembed.b_U": torch.ones(10)})
    assert "blocks.0.mlp.W_in" in attempt(**{"blocks.0.mlp.W_in": torch.zeros(32, 65)})
    assert "config.d_vocab" in attempt(cfg={"d_vocab": 12}, **{"embed.W_E": torch.zeros(12, 32)})
    assert read_transformer_lens(d).circuit is not None
