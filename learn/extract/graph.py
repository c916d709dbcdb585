"""Influence, pruning and scores of an attribution graph, as circuit-tracer defines them.

- Normalised adjacency: |A| with each target's row scaled to sum to 1 (the share of its input
  each source gives).
- Influence of a node: the logit-probability-weighted sum over all paths to the logits of the product
  of normalised edge shares, w·(Â + Â² + …) with w the logit nodes' probabilities (the graph is a
  DAG, so the series ends).
- Pruning keeps the nodes carrying `node_threshold` of the total influence (embeddings and logits
  always), then the edges carrying `edge_threshold` of the edge influence among them, then drops
  features and errors left without an outgoing edge (and features without an incoming one) until
  nothing changes.
- Replacement score: of the influence that reaches the logits from the embeddings and error nodes,
  the share that starts at embeddings (1: every path goes through features). Completeness score:
  the influence-weighted share of each node's normalised input that comes from non-error nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from circ.lang.errors import ConfigError
from circ.learn.extract.attribution import EMBEDDING, ERROR, FEATURE, LOGIT, Attribution


def normalized(adjacency: torch.Tensor) -> torch.Tensor:
    a = adjacency.abs()
    return a / a.sum(1, keepdim=True).clamp(min=1e-10)


def influence(norm: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """weights @ (Â + Â² + …), to convergence on a DAG."""
    total = torch.zeros_like(weights)
    current = weights @ norm
    for _ in range(norm.shape[0] + 1):
        if not current.any():
            return total
        total = total + current
        current = current @ norm
    raise ValueError("attribution graph has a cycle")


def logit_weights(att: Attribution) -> torch.Tensor:
    """Each logit node's probability, divided by the number of output positions (so they sum to ~1)."""
    w = torch.zeros(len(att.nodes))
    first = len(att.nodes) - len(att.logit_probs)
    n_out = len({n.pos for n in att.nodes if n.kind == LOGIT})
    w[first:] = att.logit_probs / n_out
    return w


def _kind_mask(att: Attribution, *kinds: str) -> torch.Tensor:
    return torch.tensor([n.kind in kinds for n in att.nodes])


def _threshold(scores: torch.Tensor, keep: float) -> float:
    """The score above which the highest scores add up to `keep` of the total."""
    ordered = scores.flatten().sort(descending=True).values
    total = ordered.sum()
    if total <= 0:
        return float("inf")
    cumulative = ordered.cumsum(0) / total
    at = min(int(torch.searchsorted(cumulative, torch.tensor(keep))), ordered.numel() - 1)
    return float(ordered[at])


@dataclass(frozen=True, eq=False)
class Pruned:
    node_mask: torch.Tensor  # [N] bool
    edge_mask: torch.Tensor  # [N, N] bool ([target, source])
    influence: torch.Tensor  # [N]: each node's influence on the logits
    cumulative: torch.Tensor  # [N]: the share of total influence of the nodes at least as influential


def prune_graph(att: Attribution, node_threshold: float = 0.8, edge_threshold: float = 0.98) -> Pruned:
    for name, value in (("node_threshold", node_threshold), ("edge_threshold", edge_threshold)):
        if not 0.0 <= value <= 1.0:
            raise ConfigError(name, f"must be between 0 and 1, got {value}")
    w = logit_weights(att)
    node_influence = influence(normalized(att.adjacency), w)
    always = _kind_mask(att, EMBEDDING, LOGIT)
    node_mask = (node_influence >= _threshold(node_influence, node_threshold)) | always
    pruned = att.adjacency * node_mask[:, None] * node_mask[None, :]
    norm = normalized(pruned)
    edge_scores = norm * (influence(norm, w) + w)[:, None]
    edge_mask = edge_scores >= _threshold(edge_scores, edge_threshold)
    inner = _kind_mask(att, FEATURE, ERROR)
    feature = _kind_mask(att, FEATURE)
    while True:
        before = node_mask.clone()
        edge_mask &= node_mask[:, None] & node_mask[None, :]
        node_mask &= ~inner | edge_mask.any(0)  # features and errors need an outgoing edge
        node_mask &= ~feature | edge_mask.any(1)  # features need an incoming one
        if torch.equal(before, node_mask):
            break
    order = node_influence.argsort(descending=True)
    cumulative = torch.zeros_like(node_influence)
    total = node_influence.sum()
    cumulative[order] = node_influence[order].cumsum(0) / total if total > 0 else 0.0
    return Pruned(node_mask, edge_mask & (att.adjacency != 0), node_influence, cumulative)


def graph_scores(att: Attribution) -> tuple[float, float]:
    """(replacement score, completeness score) of the unpruned graph."""
    w = logit_weights(att)
    norm = normalized(att.adjacency)
    node_influence = influence(norm, w)
    errors, embeddings = _kind_mask(att, ERROR), _kind_mask(att, EMBEDDING)
    from_tokens, from_errors = node_influence[embeddings].sum(), node_influence[errors].sum()
    replacement = (
        from_tokens / (from_tokens + from_errors) if from_tokens + from_errors > 0 else torch.tensor(1.0)
    )
    non_error = 1 - norm[:, errors].sum(1)
    out = node_influence + w
    completeness = (non_error * out).sum() / out.sum()
    return float(replacement), float(completeness)
