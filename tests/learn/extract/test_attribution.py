"""Attribution graphs are exact: the edges into every feature and logit (error nodes included) plus the
bias add up to what the model computes, for any weights, layers, LayerNorm and transcoder kind."""

from __future__ import annotations

import pytest
import torch

from circ.circuit.config import ModelConfig
from circ.learn.data import get_task
from circ.learn.extract.attribution import EMBEDDING, ERROR, FEATURE, LOGIT, attribute
from circ.learn.extract.qk import qk_attributions
from circ.learn.extract.transcoder import TranscoderConfig, Transcoders
from circ.learn.model import build_model


def _setup(
    layers: int, layernorm: bool, cross_layer: bool, architecture: str = "standard", causal: bool = True
):
    task = get_task("seq_reverse", n=4)
    cfg = ModelConfig.for_interface(
        task.interface, d_model=16, n_heads=2, d_mlp=32, n_layers=layers, layernorm=layernorm, causal=causal
    )
    model = build_model(cfg, seed=1).eval()
    k = 6 if architecture == "topk" else None
    tcfg = TranscoderConfig(layers, 16, 24, 16, architecture, k, cross_layer, layernorm)
    tc = Transcoders(tcfg).init(2).eval()
    with torch.no_grad():
        for b in tc.b_enc:
            b.fill_(0.05)  # some features on for any input
    tokens = torch.tensor([3, 1, 4, 1, 10, 10, 10, 10])
    return task, model, tc, tokens


CASES = [
    (1, False, False, "standard", True),
    (2, False, False, "standard", True),
    (2, False, True, "standard", True),
    (2, True, True, "standard", True),
    (3, True, False, "topk", False),
]


@pytest.mark.parametrize(("layers", "layernorm", "cross_layer", "architecture", "causal"), CASES)
def test_edges_plus_bias_are_each_nodes_value(layers, layernorm, cross_layer, architecture, causal) -> None:
    task, model, tc, tokens = _setup(layers, layernorm, cross_layer, architecture, causal)
    att = attribute(model, tc, task, tokens)
    targets = torch.tensor([n.kind in (FEATURE, LOGIT) for n in att.nodes])
    total = att.adjacency.sum(1) + att.bias
    assert att.count(FEATURE) > 0
    assert torch.allclose(total[targets], att.value[targets], atol=1e-4, rtol=1e-4)
    # sources have no incoming edges; the graph is a DAG over layers
    assert att.adjacency[~targets].abs().sum() == 0
    for i, node in enumerate(att.nodes):
        if node.kind == FEATURE:
            sources = att.adjacency[i].nonzero().flatten().tolist()
            assert all(att.nodes[s].kind == EMBEDDING or att.nodes[s].layer < node.layer for s in sources)


def test_logit_values_are_the_models_demeaned_logits() -> None:
    task, model, tc, tokens = _setup(2, True, False)
    att = attribute(model, tc, task, tokens)
    with torch.no_grad():
        logits = model(tokens[None])[0]  # [n_out, vocab]: the runtime's own forward pass
    n_in = task.interface.n_in
    for i, node in enumerate(att.nodes):
        if node.kind == LOGIT:
            row = logits[node.pos - n_in]
            assert abs(float(att.value[i]) - float(row[node.index] - row.mean())) < 1e-4
            assert abs(node.activation - float(row.softmax(-1)[node.index])) < 1e-5


def test_error_nodes_carry_what_the_transcoder_misses() -> None:
    task, model, tc, tokens = _setup(2, False, False)
    att = attribute(model, tc, task, tokens)
    errors = [i for i, n in enumerate(att.nodes) if n.kind == ERROR]
    assert len(errors) == model.cfg.n_layers * model.cfg.n_positions  # circuit-tracer's n_layers × n_pos
    # an untrained transcoder explains little: the logits lean on the errors
    logit_rows = [i for i, n in enumerate(att.nodes) if n.kind == LOGIT]
    assert att.adjacency[logit_rows][:, errors].abs().sum() > 0


def test_qk_terms_reproduce_every_attention_pattern() -> None:
    task, model, tc, tokens = _setup(2, True, True)
    att = attribute(model, tc, task, tokens)
    heads = qk_attributions(model, att)
    assert len(heads) == 2 * 8 + 2 * 4  # layer 0: every position; the last layer: the read positions
    for h in heads:
        assert h.residual < 1e-4
        assert h.pattern[h.top_key] == max(h.pattern)
        assert h.terms and all(isinstance(t.value, float) for t in h.terms)
