"""The torch backend: structural builtins exactly, circuits through real trained models."""

from __future__ import annotations

import pytest
import torch

from circ.circuit.interface import CircuitInterface
from circ.circuit.provider import CircuitUnavailable, ModelsProvider
from circ.compiler import nodes as N
from circ.compiler.lower import lower
from circ.lang import types as T
from circ.lang.check import check
from circ.lang.modules import load_text
from circ.learn import folded
from circ.runtime import torch_backend
from circ.runtime.execute import execute
from circ.runtime.torch_backend import TorchBackend
from circ.runtime.values import domain_batch, from_batch

PRELUDE = """
circuit plus(a: Color, b: Color) -> Color ensures result == (a + b) % 10 learned "t.add";
circuit bigger(a: Color, b: Color) -> Color ensures result >= a and result >= b learned "t.max";
circuit wrong(a: Color, b: Color) -> Bool learned "t.add";
"""


def program(body: str, entry: str = "main"):
    checked = check(load_text(PRELUDE + body, "t.circ"))
    graph = lower(checked, entry)
    params = [(n, t) for n, t in checked.function(entry).signature.params]
    return graph, params, checked.function(entry).signature.result


def run_all(body: str, provider=None, keep: bool = False):
    graph, params, result = program(body)
    inputs = domain_batch(params)
    execution = execute(graph, inputs, TorchBackend(provider or ModelsProvider({})), keep=keep)
    columns = [from_batch(t, x) for (_, t), x in zip(params, inputs, strict=True)]
    rows = list(zip(*columns, strict=True))
    return rows, from_batch(result, execution.output), execution, graph


def test_structural_builtins_move_values_exactly() -> None:
    body = """
    fn main(p: (Bool, Color), xs: Seq[Color, 2]) -> (Color, Seq[Color, 3], Grid[2, 2]) {
      let picked = if p.0 then p.1 else xs[1];
      (picked, [xs[1], p.1, 7], [[xs[0], 1], xs])
    }"""
    rows, outputs, *_ = run_all(body)
    assert len(rows) == 2 * 10 * 100
    for ((flag, c), xs), (picked, seq, grid) in zip(rows, outputs, strict=True):
        assert picked == (c if flag else xs[1])
        assert seq == [xs[1], c, 7]
        assert grid == [[xs[0], 1], list(xs)]


def test_grid_rows_and_cells_index_row_major() -> None:
    rows, outputs, *_ = run_all("fn main(g: Grid[2, 2]) -> (Seq[Color, 2], Color) { (g[1], g[0, 1]) }")
    for (g,), (row, cell) in zip(rows, outputs, strict=True):
        assert row == g[1] and cell == g[0][1]


def test_circuits_compose_on_the_whole_domain(color_provider) -> None:
    body = "fn main(a: Color, b: Color, c: Color) -> Color { bigger(plus(a, b), plus(b, c)) }"
    rows, outputs, execution, graph = run_all(body, color_provider)
    assert len(rows) == 1000
    assert all(out == max((a + b) % 10, (b + c) % 10) for (a, b, c), out in zip(rows, outputs, strict=True))
    calls = [n for n, op in graph.nodes(data=N.OP) if op == "circuit"]
    assert set(execution.confidence) == set(calls)
    assert all(((c > 0) & (c <= 1)).all() for c in execution.confidence.values())


def test_map_and_fold_unrolled_run_correctly(color_provider) -> None:
    body = (
        "fn main(xs: Seq[Color, 3], ys: Seq[Color, 3]) -> (Seq[Color, 3], Color) {\n"
        "  (zip_with(plus, xs, ys), fold(bigger, 0, xs))\n}"
    )
    graph, params, _result = program(body)
    generator = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 10, (500, 3), generator=generator) for _ in params]
    out = execute(graph, inputs, TorchBackend(color_provider)).output
    sums, peaks = out[:, :3], out[:, 3]
    assert torch.equal(sums, (inputs[0] + inputs[1]) % 10)
    assert torch.equal(peaks, inputs[0].max(dim=1).values)


def test_chunked_execution_matches_one_pass(color_provider, monkeypatch) -> None:
    body = "fn main(a: Color, b: Color, c: Color) -> Color { plus(plus(a, b), c) }"
    graph, params, _ = program(body)
    inputs = domain_batch(params)
    whole = execute(graph, inputs, TorchBackend(color_provider), keep=True)
    monkeypatch.setattr(torch_backend, "NETWORK_ROWS", 16)  # one chunk, the networks 16 rows at a time
    monkeypatch.setattr(folded, "ROWS", 16)  # and the folded path's passes (it slices a chunk itself)
    sliced = execute(graph, inputs, TorchBackend(color_provider), keep=True)
    monkeypatch.setattr(torch_backend, "CHUNK_ROWS", 64)
    chunked = execute(graph, inputs, TorchBackend(color_provider), keep=True)
    for other in (sliced, chunked):
        assert torch.equal(whole.output, other.output)
        assert all(torch.equal(whole.values[n], other.values[n]) for n in whole.values)


def test_a_folded_circuit_is_called_once_a_chunk_and_slices_it_as_the_network_rows(
    color_provider, monkeypatch
) -> None:
    """The folded path checks its kept tables once per model call: the backend gives it the whole
    chunk, and it runs `NETWORK_ROWS` at a time, the passes certificates are computed at."""
    assert folded.ROWS == torch_backend.NETWORK_ROWS
    body = "fn main(a: Color, b: Color, c: Color) -> Color { plus(plus(a, b), c) }"
    graph, params, _ = program(body)
    inputs = domain_batch(params)  # 1,000 rows, two chunks; each call has up to 100 distinct tuples
    backend = TorchBackend(color_provider, chunk_rows=512)
    monkeypatch.setattr(torch_backend, "NETWORK_ROWS", 16)  # what other models' passes would be
    models = {id(c.model): c.model for c in backend.prepare(graph).circuits.values()}.values()
    calls: list[int] = []
    handles = [m.register_forward_pre_hook(lambda m, a: calls.append(a[0].shape[0])) for m in models]
    monkeypatch.setattr(folded, "ROWS", 64)
    try:
        whole = execute(graph, inputs, backend).output
    finally:
        for handle in handles:
            handle.remove()
    assert torch.equal(whole, execute(graph, inputs, TorchBackend(color_provider)).output)
    assert len(calls) == 4 and max(calls) == 100  # each circuit once a chunk, sliced in 64-row passes


def test_a_missing_circuit_fails_before_running() -> None:
    graph, params, _ = program("fn main(a: Color) -> Color { plus(a, a) }")
    with pytest.raises(CircuitUnavailable, match=r"no circuit `t\.add` is loaded"):
        execute(graph, domain_batch(params), TorchBackend(ModelsProvider({})))


def test_a_circuit_declared_with_another_signature_is_refused(color_provider) -> None:
    graph, params, _ = program("fn main(a: Color) -> Bool { wrong(a, a) }")
    with pytest.raises(CircuitUnavailable, match=r"trained as \(Color, Color\) -> Color, but is declared"):
        execute(graph, domain_batch(params), TorchBackend(color_provider))


class _EveryRow(TorchBackend):
    """The backend with the search for repeated argument tuples switched off."""

    def distinct(self, iface, args, k):
        return torch_backend.call_tokens(iface, args, k, self.device), None


def _counted(backend: TorchBackend, graph, inputs):
    """The execution, and how many rows the networks were given in it."""
    seen: list[int] = []
    models = {id(c.model): c.model for c in backend.prepare(graph).circuits.values()}
    hooks = [m.register_forward_pre_hook(lambda _m, a: seen.append(a[0].shape[0])) for m in models.values()]
    try:
        return execute(graph, inputs, backend, keep=True), sum(seen)
    finally:
        for h in hooks:
            h.remove()


def test_the_network_runs_once_per_distinct_argument_tuple(color_provider) -> None:
    """Over all 100 (a, b) rows, plus(a, a) has 10 distinct argument tuples and bigger(a, b) 100:
    the networks are given 110 rows, not 200, and answer as if run on every row."""
    graph, params, _ = program("fn main(a: Color, b: Color) -> (Color, Color) { (plus(a, a), bigger(a, b)) }")
    inputs = domain_batch(params)
    every, every_rows = _counted(_EveryRow(color_provider), graph, inputs)
    once, once_rows = _counted(TorchBackend(color_provider), graph, inputs)
    assert (every_rows, once_rows) == (200, 110)
    assert torch.equal(every.output, once.output)
    for node, sure in every.confidence.items():
        torch.testing.assert_close(once.confidence[node], sure, rtol=1e-5, atol=1e-6)


CPU = torch.device("cpu")


@pytest.mark.parametrize("k", [1, 2])
def test_distinct_rows_rebuild_every_call_and_skip_what_cannot_repeat(k: int) -> None:
    """The distinct tuples' tokens, made from their numbers, give every call's tokens back; with no
    repeat, or a domain too big to number, every call's own tokens run, in order."""
    iface = CircuitInterface((T.COLOR, T.COLOR), T.COLOR)  # tokens: a, b, then `=` (10)
    a, b = torch.tensor([[3], [1], [3], [4]]), torch.tensor([[4], [2], [4], [3]])
    args = [a, b, b, a][: 2 * k]  # k stacked calls: (a, b), then (b, a); 3, then 4 distinct tuples
    every = torch_backend.call_tokens(iface, args, k, CPU)
    unique, inverse = torch_backend.distinct(iface, args, k, CPU)
    assert inverse is not None and unique.shape[0] == k + 2 and torch.equal(unique[inverse], every)
    rows, none = torch_backend.distinct(iface, [a[1:], b[1:]], 1, CPU)
    assert none is None and torch.equal(rows, torch_backend.call_tokens(iface, [a[1:], b[1:]], 1, CPU))
    grid = T.GridT(5, 5)
    big = CircuitInterface((grid,), grid)  # 10²⁵ grids: too many to number in 64 bits, not searched
    zeros = [torch.zeros(4, 25, dtype=torch.long)]
    rows, none = torch_backend.distinct(big, zeros, 1, CPU)
    assert none is None and torch.equal(rows, torch_backend.call_tokens(big, zeros, 1, CPU))


# (arguments, rows): a domain of 100 stamped below 25 rows, marked from 25 (≤ 4 tuples a call), run
# whole from 800 (8 calls a tuple); 10⁷ sequences (over 2²¹) sorted
CASES = {
    "stamped": (2, 20),
    "marked": (2, 30),
    "marked-400": (2, 400),
    "marked-799": (2, 799),
    "whole": (2, 800),
    "whole-5000": (2, 5000),
    "sorted": (7, 60),
}


@pytest.mark.parametrize("case", CASES)
def test_distinct_rows_are_the_same_whether_stamped_marked_sorted_or_the_whole_domain(case: str) -> None:
    """Each way gives every distinct tuple once and every call's row among them; all but stamping
    give them in the order of their numbers (stamping: in call order of the tuples' owners)."""
    width, rows = CASES[case]
    iface = (
        CircuitInterface((T.COLOR, T.COLOR), T.COLOR)
        if width == 2
        else CircuitInterface((T.SeqT(T.COLOR, width),), T.COLOR)
    )
    g = torch.Generator().manual_seed(rows)
    args = (
        [torch.randint(0, 10, (rows, 1), generator=g) for _ in range(2)]
        if width == 2
        else [torch.randint(0, 10, (rows, width), generator=g)]
    )
    args[0][: rows // 2] = 0  # half the rows on a tenth of the tuples: repeats, and tuples missing
    tokens = torch_backend.call_tokens(iface, args, 1, CPU)
    unique, inverse = torch_backend.distinct(iface, args, 1, CPU)
    assert inverse is not None and torch.equal(unique[inverse], tokens)
    ran = {tuple(r) for r in unique.tolist()}
    assert len(ran) == unique.shape[0]  # each tuple once
    assert ran == {tuple(r) for r in tokens.tolist()} or (case.startswith("whole") and len(ran) == 100)
    numbers = (unique[:, :width] * 10 ** torch.arange(width)).sum(1).tolist()
    if case == "stamped":  # each tuple where one of its calls is
        assert all(tuple(r) in ran for r in tokens.tolist()) and numbers != sorted(numbers)
    else:
        assert numbers == sorted(set(numbers))  # in the order of their numbers, as torch.unique gives


def test_stamping_rebuilds_every_call_of_a_large_domain_with_many_repeats() -> None:
    """10⁶ sequences (over 4 tuples a call, under 2²¹): stamped; 4,096 rows on 50 tuples and 8,192
    stacked calls give every call's tokens back, each tuple run once."""
    iface = CircuitInterface((T.SeqT(T.COLOR, 6),), T.SeqT(T.COLOR, 6))
    g = torch.Generator().manual_seed(0)
    pool = torch.randint(0, 10, (50, 6), generator=g)
    args = [pool[torch.randint(0, 50, (4096,), generator=g)] for _ in range(2)]
    tokens = torch_backend.call_tokens(iface, args, 2, CPU)
    unique, inverse = torch_backend.distinct(iface, args, 2, CPU)
    assert inverse is not None and unique.shape[0] == len({tuple(r) for r in pool.tolist()})
    assert torch.equal(unique[inverse], tokens)
