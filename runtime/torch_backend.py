"""The reference backend: each circuit node's model, called with PyTorch on all rows at once.

A call is: subtract each argument leaf's low end and append the `=` queries (the circuit interface's
`shift`) → keep the distinct rows → transformer → argmax → add the output's low ends back. A node
batched k ways runs its model once over a k×-taller batch (`passes.batch`), a chunk at a time.
"""

from __future__ import annotations

import functools

import networkx as nx
import torch

from circ.circuit.interface import CircuitInterface
from circ.circuit.provider import CircuitProvider, LoadedCircuit
from circ.compiler import nodes as N
from circ.learn.model import CircuitTransformer
from circ.learn.row_max import row_max

# rows per pass through the program, and per network pass within it. On CPU networks run 1,024 rows
# at a time, small enough that a call's activations stay in cache (10⁶ rows of
# examples/sequences.circ took 64 s and 366 MB so, 75 s and 593 MB at 4,096; a [196,608 × 64] @
# [64 × 64] matmul ran at 32 GFLOP/s where 28,227 rows ran at 91–101). The chunk around them only
# batches the program's own work (tokens, decoding, `distinct`, builtins): 8,192 rows ran
# combinators 1.45× and field 1.08× faster than 4,096, the sequences 10⁶ rows 7%, while 16,384
# took fp32 peak memory there to 427–468 MB (benchmarks/examples_vs_hand.py, RESULTS.md round 5).
CHUNK_ROWS, NETWORK_ROWS = 1 << 13, 1 << 10
LOG2E = 1.4426950408889634  # log₂ e: exp(x) = 2^(x·log₂ e)
# One-layer circuits take the folded path (their queries are the constant `=` tokens) up to this
# many query × key pairs: 3–7.7× faster than SDPA on the 72-pair seq6 calls, 1.7–2× faster than the
# broadcast path on the Mod[97] ones, 2× slower than SDPA on the 5×5 grids (1,250), and the same
# decoding on every stdlib circuit (benchmarks/attention_paths.py, RESULTS.md round 5). Deeper
# circuits of up to this many position pairs take the model's broadcast path (`attn_impl="math"`):
# SDPA's CPU kernel costs more than the whole attention for a few queries over a few keys (1.1–1.45×
# on the 2–3-position circuits; tests/runtime/test_torch_decode.py). On CUDA SDPA / flash_attn stays.
BROADCAST_PAIRS, FOLDED_PAIRS = 16, 128
# the rows to run (tokens), and each call's row among them (None: every call's own row, in order)
Rows = tuple[torch.Tensor, torch.Tensor | None]


class TorchBackend:
    def __init__(
        self, provider: CircuitProvider, device: str | torch.device = "cpu", chunk_rows: int | None = None
    ) -> None:
        self.provider, self.device = provider, torch.device(device)
        self.chunk_rows = chunk_rows or CHUNK_ROWS
        self._loaded: dict[tuple, LoadedCircuit] = {}

    def circuit(self, graph: nx.MultiDiGraph, node: int) -> LoadedCircuit:
        arg_types, out_type = N.call_types(graph, node)
        key = (graph.nodes[node][N.CIRCUIT], arg_types, out_type)
        if key not in self._loaded:
            loaded = self.provider.load(*key)
            self._loaded[key] = LoadedCircuit(loaded.interface, loaded.model.to(self.device).eval())
        return self._loaded[key]

    def distinct(self, iface: CircuitInterface, args: list[torch.Tensor], k: int) -> Rows:
        return distinct(iface, args, k, self.device)  # a method: a benchmark can run every row

    def prepare(self, graph: nx.MultiDiGraph) -> _Calls:
        """Load every circuit up front, so a missing one fails before any work is done."""
        return _Calls(
            self, graph, {n: self.circuit(graph, n) for n, op in graph.nodes(data=N.OP) if op == "circuit"}
        )


class _Calls:
    def __init__(
        self, backend: TorchBackend, graph: nx.MultiDiGraph, circuits: dict[int, LoadedCircuit]
    ) -> None:
        self.backend, self.graph, self.circuits = backend, graph, circuits

    def reads(self, node: int) -> list[int]:
        return N.args_of(self.graph, node)

    def call(self, node: int, values: list[torch.Tensor], rows: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Outputs [rows, k·n_out] and confidence [rows] (for k batched calls: the least confident)."""
        circuit, device = self.circuits[node], self.backend.device
        k = N.calls(self.graph, node)
        tokens, inverse = self.backend.distinct(circuit.interface, values, k)
        # a batched call is k× taller than a chunk: run it a slice at a time to keep memory bounded
        # (the folded path takes the chunk and slices it itself, checking its tables once)
        options = attention(circuit.model, device)
        sliced = device.type == "cpu" and options.get("attn_impl") != "folded"
        step = min(self.backend.chunk_rows, NETWORK_ROWS if sliced else 1 << 62)
        parts = [circuit.model(tokens[s : s + step], **options) for s in range(0, tokens.shape[0], step)]
        # the logits [k·rows, n_out, out_vocab], decoded
        decoded, sure = decode(torch.cat(parts) if len(parts) > 1 else parts[0])
        if inverse is not None:  # index_select: 3–6× faster than indexing by a tensor (a one-column one flat)
            flat = decoded.shape[1] == 1
            decoded = (decoded.view(-1) if flat else decoded).index_select(0, inverse)
            decoded, sure = decoded.view(-1, 1) if flat else decoded, sure.index_select(0, inverse)
        return unstack(circuit.interface, decoded, sure, k)


def decode(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits [calls, n_out, vocab] → argmax tokens [calls, n_out] and the joint confidence [calls]:
    the product over output tokens of each one's softmax probability, exp(−Σ log Σ exp(logit − max)) —
    the same number without materialising the softmax (and 1.3× faster than torch.logsumexp over a
    last dim of 10, measured). Its inner exp is 2^(x·log₂e): as close to float64's softmax as torch's
    exp (≤ 1.2·10⁻⁶ relative over six outputs, measured) and 1.1–5.5× faster; torch's exp slows on
    far-negative x, which confident logits minus their max mostly are (issue 19)."""
    logits = logits.float()
    best, decoded = row_max(logits)  # [calls, n_out]: torch's max(dim=-1), 2–2.6× faster at 97 wide
    return decoded, torch.exp(-(logits - best.unsqueeze(-1)).mul_(LOG2E).exp2_().sum(-1).log_().sum(-1))


def attention(model: object, device: torch.device) -> dict[str, str]:
    """The attention implementation for a model's calls on CPU: the folded one (constant queries)
    for one-layer models of up to `FOLDED_PAIRS` pairs, else the broadcast path for tiny tiles."""
    if device.type != "cpu" or not isinstance(model, CircuitTransformer):
        return {}
    cfg = model.cfg
    if cfg.n_layers == 1 and cfg.n_out * cfg.n_positions <= FOLDED_PAIRS:
        return {"attn_impl": "folded"}
    return {"attn_impl": "math"} if cfg.n_positions * cfg.n_positions <= BROADCAST_PAIRS else {}


def distinct(iface: CircuitInterface, args: list[torch.Tensor], k: int, device: torch.device) -> Rows:
    """The tokens of each distinct argument tuple of k stacked calls (arguments k×m, in call order)
    and each call's row among them; every call's tokens when none repeats. The network runs once
    per distinct tuple: a call on one variable of a two-variable domain (`square(x)` over 9,409
    (x, y) rows) runs 97 rows, not 9,409 (issue 19). Each tuple is numbered in its domain straight
    from the arguments, and only the distinct ones' tokens are made, from their numbers (1.2–1.4×
    on examples/combinators.circ against every call's tokens then a gather). A domain of at most an
    eighth of the calls runs whole, its tokens made once and kept: finding which tuples occur costs
    more than running the few that do not (combinators 1.04–1.24× more, bit for bit). A domain of up
    to 2²¹ tuples is searched without sorting, by marking (≤ 4 tuples a call) or stamping each call's
    index at its tuple's number (sequences' 10⁶: 5–9× faster than `torch.unique`, and no memory to
    clear: only stamped entries are read). Only domains below 2⁶² are searched, and only on CPU
    (`torch.unique` waits for the GPU)."""
    radix, n, m = iface.in_vocab - 1, iface.n_in, len(args) // k
    if device.type != "cpu" or radix**n >= 1 << 62 or not m:
        return call_tokens(iface, args, k, device), None
    shift, place = _shift(iface.shift, device), radix ** torch.arange(n, device=device)
    calls = [(args[i] if m == 1 else torch.cat(args[i * m : (i + 1) * m], dim=1)) @ place for i in range(k)]
    key = (torch.cat(calls) if k > 1 else calls[0]) - int(shift[:n] @ place)  # the tuple's number
    if radix**n <= min(key.shape[0] // 8, NETWORK_ROWS):  # ≤ an eighth of the calls: the whole domain
        return _domain(iface, device), key  # runs, every call reads its tuple's row by number
    if radix**n <= 4 * key.shape[0]:  # a small domain: marking its tuples is 5–9× faster than sorting
        seen = torch.zeros(radix**n, dtype=torch.long).index_fill_(0, key, 1)
        unique, inverse = seen.nonzero().squeeze(1), (seen.cumsum(0) - 1).index_select(0, key)
    elif radix**n <= 1 << 21:  # each call writes its index at its tuple's number (≤ 16 MB); one stays
        index = torch.arange(key.shape[0])
        owner = torch.empty(radix**n, dtype=torch.long).scatter_(0, key, index).index_select(0, key)
        kept = owner == index  # one call a tuple: the distinct ones in their owners' order
        unique, inverse = key[kept], (kept.cumsum(0) - 1).index_select(0, owner)
    else:
        unique, inverse = torch.unique(key, return_inverse=True)
    if unique.shape[0] == key.shape[0]:
        return call_tokens(iface, args, k, device), None
    return _numbered(iface, unique, device), inverse


def _numbered(iface: CircuitInterface, numbers: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The tokens of argument tuples from their numbers (`distinct`): digits, then the `=` queries."""
    radix, n = iface.in_vocab - 1, iface.n_in
    digits = numbers.unsqueeze(1) // radix ** torch.arange(n, device=device) % radix
    return torch.cat([digits, -_shift(iface.shift, device)[n:].expand(numbers.shape[0], -1)], dim=1)


@functools.lru_cache(maxsize=64)
def _domain(iface: CircuitInterface, device: torch.device) -> torch.Tensor:
    """Every argument tuple's tokens, in number order, made once (≤ `NETWORK_ROWS` rows). Only ever read."""
    return _numbered(iface, torch.arange((iface.in_vocab - 1) ** iface.n_in, device=device), device)


def call_tokens(
    iface: CircuitInterface, args: list[torch.Tensor], k: int, device: torch.device
) -> torch.Tensor:
    """Model input tokens [k·rows, n_positions] for k stacked calls (arguments k×m, in call order)."""
    m, rows = len(args) // k, args[0].shape[0] if args else 0
    none = [torch.empty(k * rows, 0, dtype=torch.long, device=device)]  # no arguments
    calls = [torch.cat(args[i * m : (i + 1) * m], dim=1) for i in range(k)] if m else none
    raw = torch.cat(calls) if len(calls) > 1 else calls[0]  # a copy: shifted in place, queries appended
    shift, n = _shift(iface.shift, device), raw.shape[1]
    return torch.cat([raw.sub_(shift[:n]), -shift[n:].expand(raw.shape[0], -1)], dim=1)


@functools.lru_cache(maxsize=1024)
def _shift(shift: tuple[int, ...], device: torch.device) -> torch.Tensor:
    """A circuit's token shift (or its outputs' low ends) on `device`, made once: `torch.tensor`
    on a GPU is a blocking host-to-device copy, which every call would otherwise pay (issue 19).
    Only ever read."""
    return torch.tensor(shift, device=device)


def unstack(
    iface: CircuitInterface, tokens: torch.Tensor, sure: torch.Tensor, k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Output tokens [k·rows, n_out] and confidences [k·rows] of k stacked calls → values
    [rows, k·n_out] (call i's in columns i·n_out…) and each row's least confidence [rows]."""
    values = tokens + _shift(iface.out_lows, tokens.device)
    if k == 1:
        return values, sure
    return values.unflatten(0, (k, -1)).transpose(0, 1).flatten(1), sure.unflatten(0, (k, -1)).amin(0)
