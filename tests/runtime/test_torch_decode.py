"""The torch backend's decoding and attention choice: the cheaper forms compute the same things."""

from __future__ import annotations

import torch

from circ.runtime.torch_backend import BROADCAST_PAIRS, attention, decode


def test_confidence_is_the_product_of_softmax_maxima() -> None:
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(500, 6, 10, generator=gen) * 8  # [calls, n_out, vocab], some very sure
    decoded, sure = decode(logits)
    probs = torch.softmax(logits, dim=-1)
    best, expected = probs.max(dim=-1)
    assert torch.equal(decoded, expected)
    torch.testing.assert_close(sure, best.prod(dim=-1), rtol=1e-5, atol=1e-7)


def test_confidence_through_exp2_is_as_close_to_float64_as_fp32_allows() -> None:
    """The inner exp is 2^(x·log₂ e): wide spreads (far-negative x, where torch's exp slows) and a
    Mod[97]-wide vocabulary stay within a few fp32 ulps of float64's softmax, and a sure answer is
    exactly 1."""
    gen = torch.Generator().manual_seed(1)
    for scale in (1.0, 8.0, 30.0):
        logits = torch.randn(2000, 2, 97, generator=gen) * scale
        _, sure = decode(logits)
        exact = torch.softmax(logits.double(), dim=-1).amax(-1).prod(-1)
        assert ((sure.double() - exact).abs() / exact).max() < 1e-6
    far = torch.tensor([[[0.0, -200.0, -300.0], [5.0, -150.0, -120.0]]])
    assert decode(far)[1].item() == 1.0


def test_half_precision_logits_are_decoded_in_fp32() -> None:
    logits = torch.tensor([[[0.0, 40.0, 39.0]]], dtype=torch.bfloat16)
    decoded, sure = decode(logits)
    assert decoded.tolist() == [[1]] and sure.dtype == torch.float32
    torch.testing.assert_close(sure, torch.softmax(logits.float(), -1).max(-1).values.prod(-1))


def test_tiny_models_on_cpu_take_the_folded_or_broadcast_path_and_agree_with_sdpa(color_provider) -> None:
    import dataclasses

    from circ.learn.model import build_model

    model = color_provider.models["t.add"].model  # one layer, 3 positions: 9 position pairs
    deeper = build_model(dataclasses.replace(model.cfg, n_layers=2), 0)
    assert attention(model, torch.device("cpu")) == {"attn_impl": "folded"}
    assert attention(deeper, torch.device("cpu")) == {"attn_impl": "math"}
    assert attention(model, torch.device("cuda")) == {}
    assert attention(lambda tokens: tokens, torch.device("cpu")) == {}  # any callable still runs
    tokens = torch.cartesian_prod(torch.arange(10), torch.arange(10))
    tokens = torch.cat([tokens, torch.full((100, 1), model.cfg.vocab - 1)], dim=1)
    for network in (model, deeper):
        with torch.no_grad():
            fast = network(tokens, **attention(network, torch.device("cpu")))
            reference = network(tokens, attn_impl="sdpa")
        torch.testing.assert_close(fast, reference, rtol=1e-5, atol=1e-5)
        assert torch.equal(fast.argmax(-1), reference.argmax(-1))


def test_every_small_shipped_circuit_decodes_the_same_on_its_whole_domain_with_either_attention(
    tmp_path,
) -> None:
    """The certificates were checked with SDPA; the broadcast path the runtime now takes for these
    circuits must decode every input of their domain identically."""
    import json

    from circ.circuit.signature import parse_signature
    from circ.learn.catalog import Catalog
    from circ.learn.catalog.provider import CatalogProvider
    from circ.runtime.torch_backend import call_tokens
    from circ.runtime.values import domain_batch, domain_size
    from circ.settings import packaged_catalog_dir

    manifest = json.loads((packaged_catalog_dir() / "manifest.json").read_text())
    small = [c for c in manifest["circuits"] if c["config"]["n_positions"] ** 2 <= BROADCAST_PAIRS]
    assert len(small) >= 10
    torch.set_num_threads(1)
    with Catalog("sqlite://", tmp_path / "blobs", packaged=packaged_catalog_dir()) as catalog:
        provider = CatalogProvider(catalog, "cpu")
        for entry in small:
            arg_types, out_type = parse_signature(entry["signature"])
            params = [(f"a{i}", t) for i, t in enumerate(arg_types)]
            assert domain_size(params) <= 10**4, entry["name"]
            loaded = provider.load(entry["name"], arg_types, out_type)
            tokens = call_tokens(loaded.interface, domain_batch(params), 1, torch.device("cpu"))
            with torch.no_grad():
                fast = loaded.model(tokens, **attention(loaded.model, torch.device("cpu")))
                reference = loaded.model(tokens, attn_impl="sdpa")
            assert torch.equal(fast.argmax(-1), reference.argmax(-1)), entry["name"]


def test_one_layer_circuits_of_a_few_dozen_pairs_take_the_folded_path() -> None:
    from circ.circuit.config import ModelConfig
    from circ.learn.data import get_task
    from circ.learn.model import build_model

    def model(n: int, **sizes: object) -> object:
        iface = get_task("seq_reverse", n=n).interface
        return build_model(ModelConfig.for_interface(iface, d_model=16, n_heads=2, d_mlp=16, **sizes), 0)

    cpu = torch.device("cpu")
    assert attention(model(6), cpu) == {"attn_impl": "folded"}  # 12 positions, 6 queries: 72 pairs
    assert attention(model(6, n_layers=2), cpu) == {}  # the second layer's queries vary
    assert attention(model(12), cpu) == {}  # 24 × 12 = 288 pairs: SDPA is faster there
    assert attention(model(6), torch.device("cuda")) == {}


def test_shipped_circuits_on_the_folded_path_decode_as_with_sdpa_far_inside_their_margins() -> None:
    """Seeded inputs of every shipped circuit the runtime folds: the same answers as SDPA (the path
    the certificates were computed with), and logits that move by far less than half the certified
    least margin, the most an answer could take. benchmarks/attention_paths.py checks whole domains."""
    import json

    from circ.learn.catalog.manifest import PackagedCatalog
    from circ.settings import packaged_catalog_dir

    catalog = PackagedCatalog(packaged_catalog_dir())
    manifest = json.loads((packaged_catalog_dir() / "manifest.json").read_text())
    gen = torch.Generator().manual_seed(0)
    folded = 0
    torch.set_num_threads(1)
    for record in catalog.circuits():
        model = catalog.load_model(record.name)
        if attention(model, torch.device("cpu")) != {"attn_impl": "folded"}:
            continue
        folded += 1
        cfg = model.cfg
        tokens = torch.randint(0, cfg.vocab - 1, (2048, cfg.n_positions), generator=gen)
        tokens[:, cfg.n_positions - cfg.n_out :] = cfg.vocab - 1
        with torch.no_grad():
            fast, reference = model(tokens, attn_impl="folded"), model(tokens, attn_impl="sdpa")
        assert torch.equal(fast.argmax(-1), reference.argmax(-1)), record.name
        entry = next(
            c for c in manifest["circuits"] if (c["name"], c["version"]) == (record.name, record.version)
        )
        least = min(c["min_margin"] for c in entry["certificates"] if c.get("min_margin") is not None)
        assert float((fast - reference).abs().max()) < least / 100, record.name
    assert folded >= 9  # the seq6 circuits
