"""circ on the shipped examples against a plain PyTorch loop over the same weights (issue 19).

Variants, alternated in one process (medians of `--repeat` rounds), on the optimized graph that
`circ run` executes, outputs asserted equal to the hand loop's and confidences to each other's:
  before  the torch backend as it was: 65,536-row chunks, SDPA everywhere, a full softmax for the
          confidence (kept here, `_Before`, so the comparison stays runnable);
  every   the backend as it is, but running the network on every row (`_EveryRow`: no search for
          repeated argument tuples);
  after   `circ.runtime.torch_backend.TorchBackend` as it is (its default chunk, attention and
          logsumexp confidence, each network run once per distinct argument tuple in a chunk);
  hand    what a user would write without circ: every circuit call of the lowered graph, in order,
          one whole-batch model call each (SDPA), argmax between calls, no confidence, no chunks.
`--chunks` and `--attention` also time the backend at other chunk sizes / attention paths.
% of peak: the FLOPs the networks actually ran (`compile_speed.model_flops`, or `folded_flops` on
the folded block, × the rows each model was given, counted by a forward pre-hook) over the time and
the best of an fp32 matmul timed three times in each round of the variants (the VM's speed moves
by 1.5–2× within minutes: a peak timed once at the start gave one program 30% and 54% of "peak"
in runs minutes apart; issue 19, RESULTS.md round 8). "every row" puts the same over the time of
the variant that runs every row's networks: how near the peak the network passes themselves run,
where `after` runs so little network work (combinators: 0%) that its share says nothing of them.
Run: nice -n 10 python benchmarks/examples_vs_hand.py [--repeat 5] [--chunks 512 4096 65536]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compile_speed import model_flops

from circ import api
from circ.circuit.config import ModelConfig
from circ.circuit.interface import CircuitInterface
from circ.compiler import nodes as N
from circ.compiler.builtins import SELECT, runs, selection
from circ.heap import keep_freed_memory
from circ.lang import layout
from circ.learn import folded
from circ.learn.catalog import Catalog
from circ.learn.catalog.provider import CatalogProvider
from circ.runtime import torch_backend as tb
from circ.runtime.execute import execute
from circ.runtime.values import domain_batch
from circ.settings import packaged_catalog_dir

ROOT = Path(__file__).resolve().parent.parent
# (example, rows): the whole domain where it is small, else the first / a seeded sample of rows
EXAMPLES = {"field": 9409, "polynomial": 9409, "sequences": 16384, "combinators": 65536}


class _Before(tb.TorchBackend):
    """The backend's circuit call before issue 19 (softmax confidence, SDPA, 65,536-row chunks)."""

    def __init__(self, provider: CatalogProvider) -> None:
        super().__init__(provider, "cpu", chunk_rows=1 << 16)

    def prepare(self, graph: nx.MultiDiGraph) -> tb._Calls:
        calls = super().prepare(graph)

        def call(node: int, values: list[torch.Tensor], rows: int) -> tuple[torch.Tensor, torch.Tensor]:
            circuit, k = calls.circuits[node], N.calls(graph, node)
            tokens = tb.call_tokens(circuit.interface, values, k, self.device)
            step = self.chunk_rows
            parts = [circuit.model(tokens[s : s + step]) for s in range(0, tokens.shape[0], step)]
            logits = torch.cat(parts) if len(parts) > 1 else parts[0]
            best, decoded = torch.softmax(logits.float(), dim=-1).max(dim=-1)
            return tb.unstack(circuit.interface, decoded, best.prod(dim=-1), k)

        calls.call = call  # type: ignore[method-assign]
        return calls


class _EveryRow(tb.TorchBackend):
    """The current backend, with every row through the network (repeated argument tuples too)."""

    def distinct(self, iface: CircuitInterface, args: list[torch.Tensor], k: int) -> tb.Rows:
        return tb.call_tokens(iface, args, k, self.device), None


class _Attention(tb.TorchBackend):
    """The current backend with one attention path forced (`sdpa` or `math`) for every circuit, in
    the 1,024-row passes the backend would run (it hands folded-path models whole chunks)."""

    def __init__(self, provider: CatalogProvider, impl: str) -> None:
        super().__init__(provider, "cpu")
        self.impl = impl

    def prepare(self, graph: nx.MultiDiGraph) -> tb._Calls:
        calls = super().prepare(graph)
        for loaded in calls.circuits.values():
            model = loaded.model
            loaded.model.forward = lambda tokens, _m=model, **_: torch.cat(
                [type(_m).forward(_m, part, attn_impl=self.impl) for part in tokens.split(folded.ROWS)]
            )
        return calls


def hand(graph: nx.MultiDiGraph, provider: CatalogProvider) -> Callable[[list[torch.Tensor]], torch.Tensor]:
    """The plain loop: each node of the lowered graph once, over the whole batch."""
    models = {}
    for n, op in graph.nodes(data=N.OP):
        if op == "circuit":
            models[n] = provider.load(graph.nodes[n][N.CIRCUIT], *N.call_types(graph, n))
    order = list(nx.topological_sort(graph))
    inputs = {n: i for i, n in enumerate(N.inputs(graph))}

    def run(batch: list[torch.Tensor]) -> torch.Tensor:
        rows, values = batch[0].shape[0], {}
        for n in order:
            attrs, args = graph.nodes[n], [values[a] for a in N.args_of(graph, n)]
            op = attrs[N.OP]
            if op == "input":
                values[n] = batch[inputs[n]]
            elif op == "const":
                flat = layout.flatten(attrs[N.TYPE], attrs[N.VALUE])
                values[n] = torch.tensor(flat, dtype=torch.long).expand(rows, -1)
            elif op == "circuit":
                iface, model = models[n].interface, models[n].model
                tokens = torch.cat([*args, torch.zeros(rows, iface.n_out, dtype=torch.long)], dim=1)
                out = model(tokens - torch.tensor(iface.shift), attn_impl="sdpa").argmax(-1)
                values[n] = out + torch.tensor(iface.out_lows)
            elif op == "builtin" and attrs[N.BUILTIN] == SELECT:
                values[n] = torch.where(args[0].bool(), args[1], args[2])
            elif op == "builtin":
                cols = runs(selection(attrs, [graph.nodes[a][N.TYPE] for a in N.args_of(graph, n)]))
                values[n] = torch.cat([args[a][:, s:e] for a, s, e in cols], dim=1)
            else:
                values[n] = args[0]
        return values[N.output(graph)]

    return run


def network_flops(backend: tb.TorchBackend, graph: nx.MultiDiGraph, batch: list[torch.Tensor]) -> int:
    """The FLOPs a run of `graph` on `backend` makes its networks compute: each one's per-row cost ×
    the rows it was given."""
    models = {id(c.model): c.model for c in backend.prepare(graph).circuits.values()}  # each model once
    flops = 0

    def count(model: torch.nn.Module, args: tuple[torch.Tensor, ...], kwargs: dict) -> None:
        nonlocal flops
        tokens = args[0]
        took = kwargs.get("attn_impl") == "folded" and model._foldable(tokens, False)
        kept = folded.tables(model, tokens[0, -model.cfg.n_out :]) if took else None
        flops += (model_flops(model.cfg) if kept is None else folded_flops(model.cfg, kept)) * tokens.shape[0]

    handles = [m.register_forward_pre_hook(count, with_kwargs=True) for m in models.values()]
    try:
        execute(graph, batch, backend)
    finally:
        for h in handles:
            h.remove()
    return flops


def folded_flops(cfg: ModelConfig, kept: folded.Tables) -> int:
    """Per row, the multiply-adds ×2 of the folded block (`circ.learn.folded.logits`): with `bag`,
    each query's weighted sum of its argument, own and residual rows and the readout; without it,
    the attention's weighted values, the own keys' block-diagonal matmul (its zeros counted: they
    are computed), the MLP and the unembedding."""
    q, h, d, mlp, vocab = cfg.n_out, cfg.n_heads, cfg.d_model, cfg.d_mlp, cfg.out_vocab
    n_arg = cfg.n_positions - q
    if kept.bag is not None:
        return 2 * q * ((n_arg + 1) * h + 1) * (mlp + vocab) + 2 * q * (mlp + vocab) * vocab
    attention = 2 * q * n_arg * h * d + 2 * h * q * q * d
    return attention + 2 * q * (d * mlp + mlp * d + d * vocab)


def rows_for(compiled: api.Compiled, rows: int) -> list[torch.Tensor]:
    from circ.runtime.values import domain_size

    if domain_size(compiled.params) <= 10**6:
        return [x[:rows] for x in domain_batch(compiled.params)]
    gen = torch.Generator().manual_seed(0)
    from circ.lang import types as T

    out = []
    for _, t in compiled.params:
        leaves = T.parts(t)
        cols = [torch.randint(leaf.low, leaf.high + 1, (rows, 1), generator=gen) for leaf in leaves]
        out.append(torch.cat(cols, dim=1))
    return out


MATMUL = 1024  # the peak's product: [1024²] @ [1024²]


def matmul_peak() -> Callable[[], float]:
    """One run of the peak's product, timed among the variants; the best timing counts (a single
    one swung 86–133 GFLOP/s)."""
    a = torch.randn(MATMUL, MATMUL)
    a @ a
    return lambda: float((a @ a)[0, 0])


def peak_of(seconds: float) -> float:
    return 2 * MATMUL**3 / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--examples", nargs="+", default=list(EXAMPLES))
    parser.add_argument("--chunks", type=int, nargs="*", default=[], help="also time these chunk sizes")
    parser.add_argument("--attention", action="store_true", help="also time sdpa / math everywhere")
    parser.add_argument("--bf16", action="store_true", help="also time circ with its networks in bf16")
    args = parser.parse_args()
    torch.set_num_threads(1)  # a shared 2-core box (RESULTS.md, Contention)
    keep_freed_memory()  # as `circ run` does; the hand loop gets it too
    product = matmul_peak()
    peak = peak_of(min(_timed(product) for _ in range(20)))
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread, "
          f"fp32 matmul peak at start {peak / 1e9:.0f} GFLOP/s, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    with Catalog("sqlite://", "/tmp/circ-bench-blobs", packaged=packaged_catalog_dir()) as catalog:
        provider = CatalogProvider(catalog, "cpu")
        print("| example | rows | before rows/s | every row rows/s | after rows/s | hand rows/s | "
              "after/before | circ/hand (time) | network work run | % of peak (after) | "
              "% of peak (every row) | extra, peak in those rounds |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for name in args.examples:
            measure(name, catalog, provider, args, product)


def measure(
    name: str,
    catalog: Catalog,
    provider: CatalogProvider,
    args: argparse.Namespace,
    product: Callable[[], float],
) -> None:
    """One example's table row: every variant checked against the hand loop, then timed alternately."""
    compiled = api.compile(ROOT / "examples" / f"{name}.circ")
    batch = rows_for(compiled, EXAMPLES[name])
    rows = batch[0].shape[0]
    graph = compiled.optimized
    variants: dict[str, tb.TorchBackend] = {
        "before": _Before(provider),
        "every row": _EveryRow(provider),
        "after": tb.TorchBackend(provider),
    }
    for c in args.chunks:
        variants[f"chunk {c}"] = tb.TorchBackend(provider, chunk_rows=c)
    if args.bf16:  # answers asserted equal to the fp32 hand loop's (bf16 certificates); confidences differ
        variants["bf16"] = tb.TorchBackend(CatalogProvider(catalog, "cpu", "bf16"))
    if args.attention:
        variants["sdpa"] = _Attention(provider, "sdpa")
        variants["math"] = _Attention(provider, "math")
    runs_: dict[str, Callable[[], object]] = {
        k: (lambda b=b: execute(graph, batch, b)) for k, b in variants.items()
    }
    plain = hand(compiled.graph, provider)
    with torch.no_grad():
        expected = plain(batch)
    reference = execute(graph, batch, variants["after"])
    for k, b in variants.items():
        got = execute(graph, batch, b)
        assert torch.equal(got.output, expected), f"{name}: {k} disagrees with the hand loop"
        if k == "bf16":
            continue  # its confidences are bf16's own
        for node, sure in got.confidence.items():
            torch.testing.assert_close(sure, reference.confidence[node], atol=1e-5, rtol=1e-4)
    runs_["hand"] = lambda: plain(batch)
    with torch.no_grad():
        done = network_flops(variants["after"], graph, batch)
        nominal = network_flops(variants["every row"], graph, batch)
    times: dict[str, list[float]] = {k: [] for k in runs_}
    products: list[float] = []  # the peak's products, three a round, timed among the variants
    with torch.no_grad():
        for _ in range(args.repeat):
            for k, run in runs_.items():
                times[k].append(_timed(run))
            products += [_timed(product) for _ in range(3)]
    med = {k: statistics.median(v) for k, v in times.items()}
    speed = {k: rows / v for k, v in med.items()}
    peak = peak_of(min(products))  # the best: a conservative peak, from the same minutes
    main_ = ("before", "every row", "after", "hand")
    extra = ", ".join(f"{k}: {speed[k]:,.0f}" for k in runs_ if k not in main_)
    print(
        f"| {name} | {rows:,} | {' | '.join(f'{speed[k]:,.0f}' for k in main_)} | "
        f"{med['before'] / med['after']:.2f}× | {med['after'] / med['hand']:.2f} | "
        f"{100 * done / nominal:.0f}% | {100 * done / med['after'] / peak:.0f}% | "
        f"{100 * nominal / med['every row'] / peak:.0f}% | "
        f"{extra + ', ' if extra else ''}peak {peak / 1e9:.0f} GFLOP/s |",
        flush=True,
    )


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
