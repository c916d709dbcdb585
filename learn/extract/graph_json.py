"""An attribution graph in circuit-tracer's graph JSON (`circuit_tracer/frontend/graph_models.py`), so
its local viewer and Neuronpedia open it.

Top level: `metadata` (slug, scan, transcoder_list, prompt_tokens, prompt, node_threshold,
schema_version), `qParams` (pinnedIds, supernodes, linkType, clickedId, sg_pos), `nodes`, `links`.
Node ids follow circuit-tracer: a feature `{layer}_{feature}_{pos}` (its `feature` field the Cantor
pairing of layer and index), an error `{layer}_-1_{pos}`, an embedding `E_{token}_{pos}`, a logit
`{n_layers + 1}_{token}_{pos}`. `influence` is the cumulative-influence rank circuit-tracer writes
(the share of total influence of the nodes at least as influential); links are [source → target]
direct effects. What circuit-tracer has no field for (scores, the circuit, the bias each target gets)
goes under `metadata.info`.
"""

from __future__ import annotations

from typing import Any

from circ.learn.extract.attribution import EMBEDDING, ERROR, FEATURE, LOGIT, Attribution, Node
from circ.learn.extract.graph import Pruned

SCHEMA_VERSION = 1
NODE_FIELDS = (
    "node_id",
    "feature",
    "layer",
    "ctx_idx",
    "feature_type",
    "token_prob",
    "is_target_logit",
    "run_idx",
    "reverse_ctx_idx",
    "jsNodeId",
    "clerp",
    "influence",
    "activation",
)
METADATA_FIELDS = (
    "slug",
    "scan",
    "transcoder_list",
    "prompt_tokens",
    "prompt",
    "node_threshold",
    "schema_version",
)
QPARAMS_FIELDS = ("pinnedIds", "supernodes", "linkType", "clickedId", "sg_pos")
LINK_FIELDS = ("source", "target", "weight")


def _cantor(x: int, y: int) -> int:
    return (x + y) * (x + y + 1) // 2 + y


def node_id(node: Node, n_layers: int) -> str:
    if node.kind == FEATURE:
        return f"{node.layer}_{node.index}_{node.pos}"
    if node.kind == ERROR:
        return f"{node.layer}_-1_{node.pos}"
    if node.kind == EMBEDDING:
        return f"E_{node.index}_{node.pos}"
    return f"{n_layers + 1}_{node.index}_{node.pos}"


def _node(
    node: Node, att: Attribution, influence: float | None, clerp: str, target: bool, label: str
) -> dict:
    n_layers = att.n_layers
    nid = node_id(node, n_layers)
    base: dict[str, Any] = {
        "node_id": nid,
        "ctx_idx": node.pos,
        "feature_type": node.kind,
        "token_prob": 0.0,
        "is_target_logit": False,
        "run_idx": 0,
        "reverse_ctx_idx": 0,
        "clerp": clerp,
        "influence": influence,
        "activation": None,
    }
    if node.kind == FEATURE:
        base |= {
            "feature": _cantor(node.layer, node.index),
            "layer": str(node.layer),
            "jsNodeId": f"{node.layer}_{node.index}-0",
            "activation": node.activation,
        }
    elif node.kind == ERROR:
        base |= {"feature": -1, "layer": str(node.layer), "jsNodeId": f"{node.layer}_-1-{node.pos}"}
    elif node.kind == EMBEDDING:
        base |= {"feature": node.pos, "layer": "E", "jsNodeId": f"E_{node.index}-{node.pos}"}
    else:
        base |= {
            "feature": node.index,
            "layer": str(n_layers + 1),
            "jsNodeId": f"L_{node.index}-{node.pos}",
            "token_prob": node.activation,
            "is_target_logit": target,
            "clerp": f'Output "{label}" (p={node.activation:.3f})',
            "influence": None,
        }
    return base


def graph_json(
    att: Attribution,
    pruned: Pruned,
    *,
    slug: str,
    scan: str,
    prompt: str,
    node_threshold: float,
    clerps: dict[tuple[int, int], str] | None = None,
    info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The pruned graph as circuit-tracer's JSON; `clerps[(layer, feature)]` labels features."""
    clerps = clerps or {}
    logit_first = len(att.nodes) - len(att.logit_probs)
    best_at: dict[int, int] = {}
    for i in range(logit_first, len(att.nodes)):
        pos = att.nodes[i].pos
        if pos not in best_at or att.nodes[i].activation > att.nodes[best_at[pos]].activation:
            best_at[pos] = i
    nodes, ids = [], {}
    for i, node in enumerate(att.nodes):
        if not pruned.node_mask[i]:
            continue
        if node.kind == FEATURE:
            clerp = clerps.get((node.layer, node.index), "")
        elif node.kind == EMBEDDING:
            clerp = f'Input "{att.prompt_tokens[node.pos]}" at position {node.pos}'
        elif node.kind == ERROR:
            clerp = f"MLP {node.layer} reconstruction error at position {node.pos}"
        else:
            clerp = ""
        label = att.logit_labels[i - logit_first] if node.kind == LOGIT else ""
        entry = _node(node, att, float(pruned.cumulative[i]), clerp, best_at.get(node.pos) == i, label)
        nodes.append(entry)
        ids[i] = entry["node_id"]
    targets, sources = pruned.edge_mask.nonzero(as_tuple=True)
    links = [
        {"source": ids[s], "target": ids[t], "weight": float(att.adjacency[t, s])}
        for t, s in zip(targets.tolist(), sources.tolist(), strict=True)
        if s in ids and t in ids
    ]
    linked = {link["source"] for link in links} | {link["target"] for link in links}
    nodes = [n for n in nodes if n["node_id"] in linked or n["feature_type"] in (EMBEDDING, LOGIT)]
    metadata = {
        "slug": slug,
        "scan": scan,
        "transcoder_list": [],
        "prompt_tokens": list(att.prompt_tokens),
        "prompt": prompt,
        "node_threshold": node_threshold,
        "schema_version": SCHEMA_VERSION,
    }
    if info:
        metadata["info"] = info
    qparams = {"pinnedIds": [], "supernodes": [], "linkType": "both", "clickedId": "", "sg_pos": ""}
    return {"metadata": metadata, "qParams": qparams, "nodes": nodes, "links": links}


def check_graph_json(data: dict[str, Any]) -> None:
    """Raise `ValueError` naming the first field circuit-tracer's models require that is missing or
    of the wrong type, or a link whose end is not a node."""
    for key, fields in (("metadata", METADATA_FIELDS), ("qParams", QPARAMS_FIELDS)):
        if not isinstance(data.get(key), dict):
            raise ValueError(f"{key}: missing")
        for name in fields:
            if name not in data[key]:
                raise ValueError(f"{key}.{name}: missing")
    if not isinstance(data["metadata"]["prompt_tokens"], list):
        raise ValueError("metadata.prompt_tokens: must be a list of strings")
    for key in ("nodes", "links"):
        if not isinstance(data.get(key), list):
            raise ValueError(f"{key}: missing")
    ids = set()
    for i, node in enumerate(data["nodes"]):
        for name in NODE_FIELDS:
            if name not in node:
                raise ValueError(f"nodes[{i}].{name}: missing")
        if not isinstance(node["layer"], str) or not isinstance(node["ctx_idx"], int):
            raise ValueError(f"nodes[{i}]: layer must be a string and ctx_idx an integer")
        if node["feature_type"] not in (FEATURE, ERROR, EMBEDDING, LOGIT):
            raise ValueError(f"nodes[{i}].feature_type: unknown {node['feature_type']!r}")
        ids.add(node["node_id"])
    if len(ids) != len(data["nodes"]):
        raise ValueError("nodes: node_id values are not unique")
    for i, link in enumerate(data["links"]):
        for name in LINK_FIELDS:
            if name not in link:
                raise ValueError(f"links[{i}].{name}: missing")
        if link["source"] not in ids or link["target"] not in ids:
            raise ValueError(f"links[{i}]: joins a node that is not in the graph")
