"""LoRA adaptation (learn/adapt): the vmap ensemble of adapters is each adapter's own forward, an
adapter starts as its parent, `adapt` reaches a whole-domain-exact child of a shipped circuit in a
few dozen steps, and the stored adapter re-creates the child through peft."""

from __future__ import annotations

import copy

import pytest
import torch
from peft import get_peft_model, set_peft_model_state_dict

from circ.lang.errors import ConfigError
from circ.learn.adapt import (
    AdapterEnsemble,
    AdaptOptions,
    FitOptions,
    LoraOptions,
    adapt,
    domain_accuracy,
    related_task,
)
from circ.learn.adapt.artefact import adapter_bytes, load_adapter
from circ.learn.adapt.lora import peft_config_json
from circ.learn.catalog import Catalog
from circ.learn.data import get_task
from circ.learn.model import CircuitTransformer
from circ.settings import packaged_catalog_dir

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory):
    with Catalog("sqlite://", tmp_path_factory.mktemp("blobs"), packaged=packaged_catalog_dir()) as catalog:
        yield catalog


def test_ensemble_members_are_their_own_forward_and_start_as_the_parent(shipped: Catalog) -> None:
    parent = shipped.load_model("mod97.add")
    ens = AdapterEnsemble(parent, LoraOptions(rank=4), seeds=[0, 1, 2])
    assert any("lora_embedding" in name for name in ens.params)  # the embeddings are adapted too
    with torch.no_grad():  # one factor is zero at init (B; an embedding's A): every member is the parent
        for name, p in ens.params.items():
            if "lora_B" in name:
                p.normal_()  # make the adapters matter for the comparison below
            elif "lora_embedding_A" in name:
                p.normal_(std=0.1)  # (B is already normal: both at 1 would swamp the parent)
    x = torch.randint(0, 97, (3, 50, 3))
    x[..., 2] = 97  # the `=` query token
    with torch.no_grad():
        batched = ens(x)
        for i in range(3):
            merged = CircuitTransformer(parent.cfg)
            merged.load_state_dict(ens.member(i))
            torch.testing.assert_close(merged(x[i]), batched[i], atol=1e-4, rtol=1e-4)
    assert not torch.allclose(batched[0], batched[1])  # the seeds drew different adapters

    fresh = AdapterEnsemble(parent, LoraOptions(rank=4), seeds=[0])
    state = fresh.member(0)
    for name, tensor in parent.state_dict().items():
        assert torch.equal(state[name], tensor), name


def test_adapt_succ_to_pred_is_exact_and_the_adapter_recreates_it(shipped: Catalog) -> None:
    parent = shipped.load_model("color.succ")
    task = related_task(shipped.get("color.succ").task, "color_pred")
    options = AdaptOptions(LoraOptions(rank=2), FitOptions(steps=400, eval_every=10), seeds=2)
    result = adapt(parent, task, options)
    assert all(m.reached for m in result.members), [m.checks for m in result.members]
    best = result.best
    assert best is not None and 0 < best.steps < 400
    child = CircuitTransformer(parent.cfg)
    child.load_state_dict(best.state)
    assert domain_accuracy(task)(child.eval()) == 1.0
    assert domain_accuracy(get_task("color_succ"))(child) < 0.5  # it is no longer the parent

    # the stored adapter, applied to the parent with peft, gives the child's logits
    data = adapter_bytes(result.adapters[best.index], peft_config_json(result.peft_config), {"seed": 0})
    adapter, config, provenance = load_adapter(data)
    assert config["r"] == 2 and provenance == {"seed": 0}
    wrapped = get_peft_model(copy.deepcopy(parent), LoraOptions(rank=2).peft_config())
    set_peft_model_state_dict(wrapped, adapter)
    tokens = torch.tensor([[c, 10] for c in range(10)])
    with torch.no_grad():
        torch.testing.assert_close(wrapped(tokens), child(tokens), atol=1e-5, rtol=1e-5)


def test_a_member_that_never_passes_keeps_training_to_the_last_step(shipped: Catalog) -> None:
    parent = shipped.load_model("color.succ")
    options = AdaptOptions(LoraOptions(rank=1), FitOptions(steps=3, eval_every=1))
    result = adapt(parent, get_task("color_pred"), options)
    (member,) = result.members
    assert not member.reached and member.steps == 3 and result.best is None
    assert [r["step"] for r in member.curves] == [0, 1, 2, 3]


def test_related_task_takes_the_parents_parameters() -> None:
    assert related_task("mod_add[p=97]", "mod_sub").key == "mod_sub[p=97]"
    assert related_task("grid_rot90[h=5,w=5]", "grid_rot270").key == "grid_rot270[h=5,w=5]"
    assert related_task("mod_add[p=97]", "mod_sub[p=31]").key == "mod_sub[p=31]"


def test_bad_options_and_a_task_of_another_interface_are_named(shipped: Catalog) -> None:
    with pytest.raises(ConfigError, match="rank"):
        LoraOptions(rank=0)
    with pytest.raises(ConfigError, match="targets"):
        LoraOptions(targets=("ln1",))
    with pytest.raises(ConfigError, match="steps"):
        FitOptions(steps=0)
    with pytest.raises(ConfigError, match=r"model\.vocab"):
        adapt(shipped.load_model("color.succ"), get_task("mod_neg", p=97))
