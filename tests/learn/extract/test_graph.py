"""Influence, pruning and scores follow circuit-tracer's definitions; the JSON has its required fields."""

from __future__ import annotations

import json

import pytest
import torch

from circ.learn.extract.attribution import EMBEDDING, ERROR, FEATURE, LOGIT, attribute
from circ.learn.extract.graph import graph_scores, influence, logit_weights, normalized, prune_graph
from circ.learn.extract.graph_json import NODE_FIELDS, check_graph_json, graph_json
from circ.learn.extract.train_transcoder import TrainOptions, train_transcoders
from circ.learn.extract.transcoder import TranscoderConfig


@pytest.fixture(scope="module")
def graph(load):
    model, domain = load("color.add")
    c = model.cfg
    tc = train_transcoders(
        model, domain, TranscoderConfig(1, c.d_model, 64, c.d_model), TrainOptions(steps=300)
    )
    att = attribute(model, tc, domain.task, domain.tokens[37])  # (3, 7)
    return att, prune_graph(att)


def test_influence_is_the_path_sum(graph) -> None:
    att, _ = graph
    norm = normalized(att.adjacency)
    w = logit_weights(att)
    eye = torch.eye(norm.shape[0], dtype=torch.float64)
    closed = w.double() @ (torch.linalg.inv(eye - norm.double()) - eye)  # Â + Â² + … on a DAG
    assert torch.allclose(influence(norm, w).double(), closed, atol=1e-5)
    assert torch.allclose(norm.sum(1)[norm.sum(1) > 0], torch.ones(1), atol=1e-5)


def test_pruning_keeps_inputs_and_outputs_and_only_connected_nodes(graph) -> None:
    att, pruned = graph
    for i, node in enumerate(att.nodes):
        if node.kind in (EMBEDDING, LOGIT):
            assert pruned.node_mask[i]
        elif pruned.node_mask[i]:
            assert pruned.edge_mask[:, i].any()  # every kept feature or error feeds something kept
            if node.kind == FEATURE:
                assert pruned.edge_mask[i].any()
    assert pruned.node_mask.sum() < len(att.nodes)
    everything = prune_graph(att, 1.0, 1.0)
    assert everything.node_mask.sum() >= pruned.node_mask.sum()
    with pytest.raises(ValueError, match="node_threshold"):
        prune_graph(att, 1.5)


def test_scores_are_shares(graph) -> None:
    att, _ = graph
    replacement, completeness = graph_scores(att)
    assert 0 <= replacement <= 1 and 0 <= completeness <= 1
    # with every error edge removed, all influence comes through features and tokens
    errors = torch.tensor([n.kind == ERROR for n in att.nodes])
    clean = type(att)(**{**att.__dict__, "adjacency": att.adjacency * ~errors[None, :]})
    assert graph_scores(clean) == pytest.approx((1.0, 1.0), abs=1e-6)


def test_graph_json_has_circuit_tracers_fields(graph) -> None:
    att, pruned = graph
    data = graph_json(
        att, pruned, slug="color.add-3-7", scan="color.add@1", prompt="add(3, 7)", node_threshold=0.8
    )
    check_graph_json(data)
    data = json.loads(json.dumps(data))  # plain JSON
    assert set(data) == {"metadata", "qParams", "nodes", "links"}
    assert data["metadata"]["prompt_tokens"] == ["3", "7", "="]
    kinds = {n["feature_type"] for n in data["nodes"]}
    assert {"embedding", "logit", "cross layer transcoder"} <= kinds
    for node in data["nodes"]:
        assert set(NODE_FIELDS) <= set(node)
        layer, _, pos = node["node_id"].split("_")
        assert int(pos) == node["ctx_idx"]
        if node["feature_type"] == "embedding":
            assert layer == "E" and node["layer"] == "E"
        elif node["feature_type"] == "logit":
            assert layer == "2" and node["clerp"].startswith('Output "0"')  # 3 + 7 = 0 (mod 10)
            assert node["is_target_logit"] and node["token_prob"] > 0.5
        else:
            assert int(layer) == 0 and node["layer"] == "0"
            assert node["activation"] > 0
    ids = {n["node_id"] for n in data["nodes"]}
    assert data["links"] and all(link["source"] in ids and link["target"] in ids for link in data["links"])


def test_a_graph_json_missing_a_field_is_rejected(graph) -> None:
    att, pruned = graph
    data = graph_json(att, pruned, slug="s", scan="c", prompt="p", node_threshold=0.8)
    del data["nodes"][0]["feature_type"]
    with pytest.raises(ValueError, match=r"nodes\[0\]\.feature_type"):
        check_graph_json(data)
    data = graph_json(att, pruned, slug="s", scan="c", prompt="p", node_threshold=0.8)
    data["links"].append({"source": "nope", "target": data["nodes"][0]["node_id"], "weight": 1.0})
    with pytest.raises(ValueError, match="not in the graph"):
        check_graph_json(data)
