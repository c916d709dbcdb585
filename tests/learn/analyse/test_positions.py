"""Attention patterns and per-position attribution, on shipped sequence and grid circuits."""

from __future__ import annotations

import torch

from circ.learn.analyse.attention import attention_patterns
from circ.learn.analyse.attribution import attribution
from circ.learn.data import get_task


def test_reverse_reads_the_mirrored_cell(stdlib_catalog) -> None:
    task = get_task("seq_reverse", n=6)
    attr = attribution(task, stdlib_catalog.load_model("seq6.reverse"), rows=500)
    assert attr.reads("reference") == [5, 4, 3, 2, 1, 0]
    assert attr.reads() == [5, 4, 3, 2, 1, 0]
    assert all(attr.agrees()) and attr.single_cell()
    assert attr.model.shape == (6, 6)
    off = attr.model[~torch.eye(6, dtype=torch.bool).flip(1).numpy()]
    assert off.max() < 0.05  # redrawing any other cell leaves the output alone


def test_attribution_tells_a_wrong_circuit_from_the_reference(stdlib_catalog) -> None:
    """seq6.reverse judged against rotate-left: it reads the wrong cells, and the test can see it."""
    attr = attribution(get_task("seq_rotate_left", n=6), stdlib_catalog.load_model("seq6.reverse"), rows=300)
    assert not all(attr.agrees())


def test_attention_rows_are_distributions_over_earlier_positions(stdlib_catalog) -> None:
    model = stdlib_catalog.load_model("mod97.add")
    tokens = torch.tensor([[3, 5, 97], [10, 20, 97]])
    patterns = attention_patterns(model, tokens)
    assert patterns.shape == (1, 4, 3, 3)
    assert torch.allclose(patterns.sum(-1), torch.ones(1, 4, 3), atol=1e-5)
    assert patterns[..., 0, 1:].abs().max() == 0  # causal: position 0 sees only itself
