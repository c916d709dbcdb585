"""`row_max` is `torch.max(dim=-1)`, values and first-maximum indices, on every input it is given."""

from __future__ import annotations

import torch

from circ.learn.row_max import row_max


def _assert_torch_max(x: torch.Tensor) -> None:
    expected = x.max(dim=-1)
    values, indices = row_max(x)
    assert torch.equal(indices, expected.indices)
    torch.testing.assert_close(values, expected.values, rtol=0, atol=0, equal_nan=True)


def test_wide_logits_match_torch_max_with_ties_nan_and_infinities() -> None:
    """8,192 × 97 takes the vectorised path; ties must give the first maximum (an index sum would
    give their sum), NaN and +inf rows torch's answer."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(8192, 1, 97, generator=gen) * 8
    x[0, 0, [3, 40, 90]] = 100.0  # a three-way tie
    x[1, 0, :] = 7.0  # every entry tied
    x[2, 0, 5] = float("nan")
    x[3, 0, [10, 20]] = float("inf")
    x[4, 0, :50] = float("-inf")
    _assert_torch_max(x)
    _assert_torch_max(x.double())


def test_narrow_small_and_half_precision_inputs_match_torch_max() -> None:
    """Below the widths and sizes where it pays, and in bf16 (whose floats hold integers exactly
    only to 256: an index sum there would round index 299 to 300)."""
    gen = torch.Generator().manual_seed(1)
    wide = torch.randn(512, 300, generator=gen)
    wide[:, 299] = 50.0
    _assert_torch_max(wide.bfloat16())
    for shape in ((8192, 6, 10), (100, 1, 97), (4096, 1, 1000)):
        _assert_torch_max(torch.randn(*shape, generator=gen))
