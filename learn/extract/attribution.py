"""Attribution graphs (Ameisen et al. 2025, circuit-tracer's definitions) for one input, computed exactly.

With attention patterns and LayerNorm scales frozen at their values on the input, the circuit is
linear in its residual stream, so every vector that enters the stream can be followed on its own.
The vectors, the graph's source nodes: each input position's token and positional embedding
(`embedding` nodes; the two halves are kept apart for the QK attributions), each active transcoder
feature's activation × its decoder rows (`cross layer transcoder` nodes), each MLP's reconstruction
error (`mlp reconstruction error` nodes: the real MLP output minus the transcoders'), and one bias
stream (the decoder biases and LayerNorm biases; not a node, reported beside each target). A
feature's incoming edges are each source's stream read by its encoder row at its layer and position;
a logit node's are each stream read by the demeaned unembedding row of its token (circuit-tracer's
logit direction). No edge passes through another feature: these are direct effects.

Because the errors are the exact differences, the edges into a node plus its bias sum to the node's
real value: a feature's pre-activation, a logit's demeaned value (`completeness` in the tests). Small
circuits make this a dense, exact computation: no gradients, no sampling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from circ.lang import layout
from circ.lang import types as T
from circ.learn.data.task import Task
from circ.learn.extract.transcoder import Transcoders
from circ.learn.model import CircuitTransformer

FEATURE, ERROR, EMBEDDING, LOGIT = "cross layer transcoder", "mlp reconstruction error", "embedding", "logit"


@dataclass(frozen=True)
class Node:
    kind: str  # FEATURE | ERROR | EMBEDDING | LOGIT (circuit-tracer's feature_type strings)
    layer: int  # the model layer (-1 for embeddings, n_layers for logits)
    pos: int
    index: int  # feature index; -1 for errors; the input token id; the output token id
    activation: float = 0.0  # a feature's activation; a logit's probability

    @property
    def label(self) -> str:
        if self.kind == FEATURE:
            return f"L{self.layer}.f{self.index}@{self.pos}"
        if self.kind == ERROR:
            return f"L{self.layer}.error@{self.pos}"
        if self.kind == EMBEDDING:
            return f"tok{self.index}@{self.pos}"
        return f"logit{self.index}@{self.pos}"


@dataclass(frozen=True, eq=False)
class Attribution:
    nodes: list[Node]  # features, then errors (layer-major), then embeddings, then logits
    adjacency: torch.Tensor  # [N, N]: [target, source] direct effect
    bias: torch.Tensor  # [N]: the bias stream's effect on each target (0 for source-only nodes)
    value: (
        torch.Tensor
    )  # [N]: each feature's pre-activation and each logit's demeaned value, as the model computes it
    logit_probs: torch.Tensor  # [n_logits]: softmax probability of each logit node's token
    tokens: list[int]
    prompt_tokens: list[str]  # each input position shown as a value (`3`, `=`)
    logit_labels: list[str]  # each logit node's token shown as a value
    streams: list[
        torch.Tensor
    ]  # per layer: every source's part of blocks.L.hook_resid_pre, [S, pos, d_model]
    stream_names: list[str]  # one per source row of `streams` (embeddings split into token / position)
    patterns: list[torch.Tensor]  # per layer: attention patterns [head, q_pos, k_pos]
    errors: dict[
        int, torch.Tensor
    ]  # per layer: the MLP's reconstruction error [pos, d_model] (0 where unused)
    n_layers: int

    def count(self, kind: str) -> int:
        return sum(1 for n in self.nodes if n.kind == kind)


def _leaf_label(t: T.Type, token: int) -> str:
    value = token + t.low
    return layout.format_value(bool(value)) if isinstance(t, T.BoolT) else str(value)


def _frozen_norm(module: torch.nn.Module, x_real: torch.Tensor):
    """LayerNorm with its scale frozen at `x_real` ([pos, d]): (linear part, bias); Identity → (id, 0)."""
    if not isinstance(module, torch.nn.LayerNorm):
        return (lambda c: c), torch.zeros(x_real.shape[-1])
    sigma = (x_real.var(-1, unbiased=False, keepdim=True) + module.eps).sqrt()  # [pos, 1]
    weight = module.weight.detach()
    return (lambda c: (c - c.mean(-1, keepdim=True)) / sigma * weight), module.bias.detach()


@torch.no_grad()
def attribute(
    model: CircuitTransformer,
    tc: Transcoders,
    task: Task,
    tokens: torch.Tensor,
    *,
    max_n_logits: int = 10,
    desired_logit_prob: float = 0.95,
) -> Attribution:
    """The attribution graph of `model` (MLPs read through `tc`) on one input, `tokens` [n_positions]."""
    cfg = model.cfg
    iface = task.interface
    n_pos, n_in, n_layers = cfg.n_positions, iface.n_in, cfg.n_layers
    read = list(iface.read_positions)
    logits_real, cache = model.run_with_cache(tokens[None], all_positions=True)
    logits_real = logits_real[0]  # [pos, out_vocab]

    # ---- the real forward's frozen parts: patterns, norms' inputs, MLP inputs and outputs
    patterns, mlp_in, mlp_out = [], [], []
    for layer, block in enumerate(model.blocks):
        resid_pre = cache[f"blocks.{layer}.hook_resid_pre"][0]
        x = block.ln1(resid_pre)
        q = (x @ block.attn.q.weight.T).reshape(n_pos, cfg.n_heads, cfg.d_head).transpose(0, 1)
        k = (x @ block.attn.k.weight.T).reshape(n_pos, cfg.n_heads, cfg.d_head).transpose(0, 1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(cfg.d_head)  # [head, q, k]
        if cfg.causal:
            scores = scores.masked_fill(~torch.ones(n_pos, n_pos, dtype=torch.bool).tril(), float("-inf"))
        patterns.append(scores.softmax(-1))
        mlp_in.append(block.ln2(cache[f"blocks.{layer}.hook_resid_mid"][0]))
        mlp_out.append(cache[f"blocks.{layer}.hook_mlp_out"][0])

    def positions(layer: int) -> list[int]:  # where the layer's MLP matters for the logits
        return read if layer == n_layers - 1 else list(range(n_pos))

    pre = {layer: tc.pre_activations(layer, mlp_in[layer]) for layer in range(n_layers)}
    acts = {layer: tc.activate(p) for layer, p in pre.items()}
    features = [
        (layer, p, f)
        for layer in range(n_layers)
        for p in positions(layer)
        for f in acts[layer][p].nonzero().flatten().tolist()
    ]
    errors = {}
    for layer in range(n_layers):
        err = mlp_out[layer] - tc.decode(layer, acts)
        keep = torch.zeros(n_pos, 1)
        keep[positions(layer)] = 1
        errors[layer] = err * keep

    # ---- the salient logits: per read position, tokens until `desired_logit_prob` (at most max_n_logits)
    probs = logits_real.softmax(-1)
    logit_nodes = []
    for p in read:
        top_p, top_i = probs[p].topk(min(max_n_logits, probs.shape[-1]))
        cut = int(torch.searchsorted(top_p.cumsum(0), torch.tensor(desired_logit_prob))) + 1
        logit_nodes += [(p, int(t), float(pr)) for pr, t in zip(top_p[:cut], top_i[:cut], strict=True)]

    # ---- source streams: [2·pos embedding halves, bias, features, errors]
    n_feat, n_err = len(features), n_layers * n_pos
    embed_rows, bias_row = 2 * n_pos, 2 * n_pos
    feat0 = bias_row + 1
    err0 = feat0 + n_feat
    n_src = err0 + n_err
    stream = torch.zeros(n_src, n_pos, cfg.d_model)
    for p in range(n_pos):
        stream[2 * p, p] = model.embed.weight[tokens[p]]
        stream[2 * p + 1, p] = model.pos_embed.weight[p]
    prompt, outputs = _labels(task, tokens)
    names = [f"{kind} @{p}" for p in range(n_pos) for kind in (f'tok "{prompt[p]}"', "pos")]
    names += ["bias"] + [f"L{layer_}.f{f}@{p}" for layer_, p, f in features]
    names += [f"L{layer_}.error@{p}" for layer_ in range(n_layers) for p in range(n_pos)]
    feature_row = {key: feat0 + i for i, key in enumerate(features)}

    n_nodes = n_feat + n_err + n_pos + len(logit_nodes)
    adjacency = torch.zeros(n_nodes, n_nodes)
    bias = torch.zeros(n_nodes)
    value = torch.zeros(n_nodes)

    def to_node(rows: torch.Tensor) -> torch.Tensor:
        """Effects of every source row [n_src] → effects of every graph node [n_nodes] (and the bias)."""
        out = torch.zeros(n_nodes)
        out[n_feat + n_err : n_feat + n_err + n_pos] = rows[:embed_rows].reshape(n_pos, 2).sum(1)
        out[:n_feat] = rows[feat0:err0]
        out[n_feat : n_feat + n_err] = rows[err0:]
        return out

    streams = []
    for layer, block in enumerate(model.blocks):
        streams.append(stream.clone())
        linear, ln_bias = _frozen_norm(block.ln1, cache[f"blocks.{layer}.hook_resid_pre"][0])
        x = linear(stream)
        x[bias_row] += ln_bias
        v = (x @ block.attn.v.weight.T).reshape(n_src, n_pos, cfg.n_heads, cfg.d_head)
        z = torch.einsum("hqk,skhd->sqhd", patterns[layer], v).reshape(n_src, n_pos, cfg.d_model)
        stream = stream + z @ block.attn.o.weight.T
        linear, ln_bias = _frozen_norm(block.ln2, cache[f"blocks.{layer}.hook_resid_mid"][0])
        x = linear(stream)
        x[bias_row] += ln_bias
        for i, (f_layer, p, f) in enumerate(features):
            if f_layer == layer:
                effects = x[:, p] @ tc.W_enc[layer][:, f]
                adjacency[i] = to_node(effects)
                bias[i] = effects[bias_row] + tc.b_enc[layer, f]
                value[i] = pre[layer][p, f]
        # what this layer's MLP writes: features of this and (cross-layer) earlier layers, error, bias
        for f_layer, p, f in features:
            if f_layer <= layer and (tc.cfg.cross_layer or f_layer == layer):
                row = feature_row[(f_layer, p, f)]
                stream[row, p] += acts[f_layer][p, f] * tc.W_dec[f_layer][f, layer - f_layer]
        for p in positions(layer):
            stream[err0 + layer * n_pos + p, p] += errors[layer][p]
            stream[bias_row, p] += tc.b_dec[layer]

    linear, ln_bias = _frozen_norm(model.ln_final, cache[f"blocks.{n_layers - 1}.hook_resid_post"][0])
    x = linear(stream)
    x[bias_row] += ln_bias
    unembed = model.unembed.weight  # [out_vocab, d_model]
    demeaned = unembed - unembed.mean(0, keepdim=True)
    first_logit = n_feat + n_err + n_pos
    for i, (p, t, _) in enumerate(logit_nodes):
        effects = x[:, p] @ demeaned[t]
        adjacency[first_logit + i] = to_node(effects)
        bias[first_logit + i] = effects[bias_row]
        value[first_logit + i] = logits_real[p, t] - logits_real[p].mean()

    nodes = [Node(FEATURE, layer_, p, f, float(acts[layer_][p, f])) for layer_, p, f in features]
    nodes += [Node(ERROR, layer_, p, -1) for layer_ in range(n_layers) for p in range(n_pos)]
    nodes += [Node(EMBEDDING, -1, p, int(tokens[p])) for p in range(n_pos)]
    nodes += [Node(LOGIT, n_layers, p, t, pr) for p, t, pr in logit_nodes]
    labels = [outputs[p - n_in](t) for p, t, _ in logit_nodes]
    return Attribution(
        nodes,
        adjacency,
        bias,
        value,
        torch.tensor([pr for _, _, pr in logit_nodes]),
        [int(t) for t in tokens],
        prompt,
        labels,
        streams,
        names,
        patterns,
        errors,
        n_layers,
    )


def _labels(task: Task, tokens: torch.Tensor):
    """Input positions as values (`3`, `true`, `=`), and per output position a token → value label."""
    leaves = [leaf for t in task.arg_types for leaf in T.parts(t)]
    prompt = [_leaf_label(leaf, int(tok)) for leaf, tok in zip(leaves, tokens.tolist(), strict=False)]
    prompt += ["="] * (len(tokens) - len(leaves))
    outputs = [lambda t, leaf=leaf: _leaf_label(leaf, t) for leaf in T.parts(task.out_type)]
    return prompt, outputs
