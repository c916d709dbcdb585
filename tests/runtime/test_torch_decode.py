"""The torch backend's decoding and attention choice: the cheaper forms compute the same things."""

from __future__ import annotations

import torch

from circ.runtime.torch_backend import attention, decode


def test_confidence_is_the_product_of_softmax_maxima() -> None:
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(500, 6, 10, generator=gen) * 8  # [calls, n_out, vocab], some very sure
    decoded, sure = decode(logits)
    probs = torch.softmax(logits, dim=-1)
    best, expected = probs.max(dim=-1)
    assert torch.equal(decoded, expected)
    torch.testing.assert_close(sure, best.prod(dim=-1), rtol=1e-5, atol=1e-7)


def test_half_precision_logits_are_decoded_in_fp32() -> None:
    logits = torch.tensor([[[0.0, 40.0, 39.0]]], dtype=torch.bfloat16)
    decoded, sure = decode(logits)
    assert decoded.tolist() == [[1]] and sure.dtype == torch.float32
    torch.testing.assert_close(sure, torch.softmax(logits.float(), -1).max(-1).values.prod(-1))


def test_tiny_models_on_cpu_take_the_broadcast_path_and_agree_with_sdpa(color_provider) -> None:
    model = color_provider.models["t.add"].model  # 3 positions: 9 query × key pairs at most
    assert attention(model, torch.device("cpu")) == {"attn_impl": "math"}
    assert attention(model, torch.device("cuda")) == {}
    assert attention(lambda tokens: tokens, torch.device("cpu")) == {}  # any callable still runs
    tokens = torch.cartesian_prod(torch.arange(10), torch.arange(10))
    tokens = torch.cat([tokens, torch.zeros(100, 1, dtype=torch.long)], dim=1)
    with torch.no_grad():
        fast, reference = model(tokens, attn_impl="math"), model(tokens, attn_impl="sdpa")
    torch.testing.assert_close(fast, reference, rtol=1e-5, atol=1e-5)
    assert torch.equal(fast.argmax(-1), reference.argmax(-1))
