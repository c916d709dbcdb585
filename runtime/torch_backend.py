"""The reference backend: runs a dataflow graph on a batch of rows with PyTorch.

Every value is a LongTensor `[rows, leaves]` of raw scalar values in token order (see
`circ.lang.types.flatten`), so structural builtins are slices and concatenations, and a circuit
call is: subtract each leaf's low end → append the `=` query tokens → transformer → argmax → add
the low ends back. All rows pass through each node at once (no per-row Python), in chunks that
bound memory; nodes run in topological order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import torch

from circ.compiler import nodes as N
from circ.lang import types as T
from circ.learn.interface import CircuitInterface
from circ.runtime.provider import CircuitProvider, LoadedCircuit

CHUNK_ROWS = 1 << 16  # rows per pass: a 5×5-grid circuit at d_model 128 stays under ~1 GB here


def width(t: T.Type) -> int:
    """Leaves per value: the columns of its `[rows, leaves]` tensor."""
    return len(T.parts(t))


@dataclass
class Execution:
    """Values of every node (when traced) or just the output, plus circuit confidences."""

    output: torch.Tensor  # [rows, width(output type)]
    values: dict[int, torch.Tensor] = field(default_factory=dict)  # node → [rows, width]
    # circuit node → [rows]; a batched node's is its least confident call's (what a row reports)
    confidence: dict[int, torch.Tensor] = field(default_factory=dict)


def concat_executions(parts: list[Execution]) -> Execution:
    """The executions of consecutive row chunks, as one (chunks bound memory, not results)."""
    if len(parts) == 1:
        return parts[0]
    return Execution(
        output=torch.cat([p.output for p in parts]),
        values={n: torch.cat([p.values[n] for p in parts]) for n in parts[0].values},
        confidence={n: torch.cat([p.confidence[n] for p in parts]) for n in parts[0].confidence},
    )


class TorchBackend:
    def __init__(self, provider: CircuitProvider, device: str | torch.device = "cpu") -> None:
        self.provider = provider
        self.device = torch.device(device)
        self._loaded: dict[tuple, LoadedCircuit] = {}

    def circuit(self, graph: nx.MultiDiGraph, node: int) -> LoadedCircuit:
        arg_types, out_type = N.call_types(graph, node)
        key = (graph.nodes[node][N.CIRCUIT], arg_types, out_type)
        if key not in self._loaded:
            loaded = self.provider.load(*key)
            self._loaded[key] = LoadedCircuit(loaded.interface, loaded.model.to(self.device).eval())
        return self._loaded[key]

    def prepare(self, graph: nx.MultiDiGraph) -> None:
        """Load every circuit up front, so a missing one fails before any work is done."""
        for node, op in graph.nodes(data=N.OP):
            if op == "circuit":
                self.circuit(graph, node)

    @torch.no_grad()
    def run(self, graph: nx.MultiDiGraph, inputs: list[torch.Tensor], keep: bool = False) -> Execution:
        """Run on `inputs` (one `[rows, width]` tensor per entry parameter, in order)."""
        self.prepare(graph)
        rows = inputs[0].shape[0] if inputs else 1
        parts = [
            self._run_chunk(
                graph, [x[start : start + CHUNK_ROWS] for x in inputs], keep, min(CHUNK_ROWS, rows - start)
            )
            for start in range(0, rows, CHUNK_ROWS)
        ]
        return concat_executions(parts)

    def _run_chunk(
        self, graph: nx.MultiDiGraph, inputs: list[torch.Tensor], keep: bool, rows: int
    ) -> Execution:
        params = N.inputs(graph)
        values: dict[int, torch.Tensor] = {}
        confidence: dict[int, torch.Tensor] = {}
        remaining = {n: graph.out_degree(n) for n in graph.nodes}  # free values nobody needs any more
        for node in nx.topological_sort(graph):
            attrs = graph.nodes[node]
            args = [values[a] for a in N.args_of(graph, node)]
            op = attrs[N.OP]
            if op == "input":
                value = inputs[params.index(node)].to(self.device, torch.long)
            elif op == "const":
                flat = torch.tensor(
                    T.flatten(attrs[N.TYPE], attrs[N.VALUE]), dtype=torch.long, device=self.device
                )
                value = flat.expand(rows, -1)
            elif op == "circuit":
                value, confidence[node] = self._call(self.circuit(graph, node), graph, node, args)
            elif op == "builtin":
                value = builtin(attrs, [graph.nodes[a][N.TYPE] for a in N.args_of(graph, node)], args)
            else:
                value = args[0]
            values[node] = value
            if not keep:
                for a in set(N.args_of(graph, node)):
                    remaining[a] -= graph.number_of_edges(a, node)
                    if remaining[a] == 0:
                        del values[a]
        output = values[N.output(graph)]
        return Execution(output, values if keep else {}, confidence)

    def _call(
        self, circuit: LoadedCircuit, graph: nx.MultiDiGraph, node: int, args: list[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Outputs [rows, k·n_out] and confidence [rows] (for k batched calls: the least confident)."""
        iface = circuit.interface
        k = N.calls(graph, node)
        tokens = call_tokens(iface, args, k, self.device)
        # a batched call is k× taller than a chunk: run it a chunk at a time to keep memory bounded
        parts = [circuit.model(tokens[s : s + CHUNK_ROWS]) for s in range(0, tokens.shape[0], CHUNK_ROWS)]
        logits = torch.cat(parts) if len(parts) > 1 else parts[0]  # [k·rows, n_out, out_vocab]
        probs = torch.softmax(logits.float(), dim=-1)
        best, decoded = probs.max(dim=-1)  # [k·rows, n_out]
        # joint confidence of the whole output: product over its tokens' probabilities
        return unstack(iface, decoded, best.prod(dim=-1), k)


def call_tokens(
    iface: CircuitInterface, args: list[torch.Tensor], k: int, device: torch.device
) -> torch.Tensor:
    """Model input tokens [k·rows, n_positions] for k stacked calls (arguments k×m, in call order)."""
    m = len(args) // k
    rows = args[0].shape[0] if args else 0
    if m:
        raw = torch.cat([torch.cat(args[i * m : (i + 1) * m], dim=1) for i in range(k)])
    else:
        raw = torch.empty(k * rows, 0, dtype=torch.long, device=device)
    lows = torch.tensor([low for t in iface.arg_types for low in T.lows(t)], device=device)
    query = torch.full((raw.shape[0], iface.n_out), iface.query_token, dtype=torch.long, device=device)
    return torch.cat([raw - lows, query], dim=1)


def unstack(
    iface: CircuitInterface, tokens: torch.Tensor, sure: torch.Tensor, k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Output tokens [k·rows, n_out] and confidences [k·rows] of k stacked calls → values
    [rows, k·n_out] (call i's in columns i·n_out…) and each row's least confidence [rows]."""
    values = tokens + torch.tensor(T.lows(iface.out_type), device=tokens.device)
    if k == 1:
        return values, sure
    rows = values.shape[0] // k
    values = values.reshape(k, rows, iface.n_out).permute(1, 0, 2).reshape(rows, k * iface.n_out)
    return values, sure.reshape(k, rows).min(dim=0).values


def builtin(attrs: dict, arg_types: list[T.Type], args: list[torch.Tensor]) -> torch.Tensor:
    """A structural builtin on `[rows, leaves]` values: slices and concatenations."""
    name = attrs[N.BUILTIN]
    if name in ("tuple", "seq", "grid"):
        return torch.cat(args, dim=1)
    if name == "select":
        cond, then, orelse = args
        return torch.where(cond.bool(), then, orelse)
    (base,), (t,) = args, arg_types
    if name == "proj":
        start = sum(width(item) for item in t.items[: attrs[N.INDEX]])
        return base[:, start : start + width(t.items[attrs[N.INDEX]])]
    if name == "index":
        index = attrs[N.INDEX]
        if isinstance(t, T.SeqT):
            w = width(t.elem)
            return base[:, index[0] * w : (index[0] + 1) * w]
        if len(index) == 2:
            cell = index[0] * t.w + index[1]
            return base[:, cell : cell + 1]
        return base[:, index[0] * t.w : (index[0] + 1) * t.w]
    raise AssertionError(f"unknown builtin {name}")
