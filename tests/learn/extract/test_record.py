"""Every extraction artefact round-trips through the catalog with its provenance, and the circuits
extraction registers are certified circuits the catalog loads like any other."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load as load_tensors

from circ.learn.catalog import Catalog, CatalogError
from circ.learn.extract.graph_circuit import graph_circuit
from circ.learn.extract.prune_circuit import PruneOptions, prune_circuit
from circ.learn.extract.record import GRAPH, LABELS, PRUNE, QK, TRANSCODER
from circ.learn.extract.train_transcoder import TrainOptions
from circ.learn.extract.transcode_circuit import TranscoderOptions, transcode_circuit
from circ.learn.extract.transcoder import Transcoders
from circ.settings import packaged_catalog_dir
from circ.verify.certify import certify


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("catalog")
    catalog = Catalog(f"sqlite:///{root / 'db.sqlite'}", root / "blobs", packaged=packaged_catalog_dir())
    cert = lambda ref: certify(catalog, ref)  # noqa: E731
    out = root / "out"
    pruned = prune_circuit(catalog, "color.add", PruneOptions(), certify=cert, out=out)
    options = TranscoderOptions(train=TrainOptions(steps=400))
    transcoded = transcode_circuit(catalog, "color.add", options, certify=cert, out=out, arg_names=["a", "b"])
    graph = graph_circuit(catalog, "color.add", [3, 7], out=out)
    yield catalog, pruned, transcoded, graph, out
    catalog.close()


def _row(catalog: Catalog, method: str):
    (row,) = [e for e in catalog.extractions("color.add") if e.method == method]
    return row


def test_provenance_names_the_parent_weights_and_options(extracted) -> None:
    catalog, *_ = extracted
    parent = catalog.get("color.add")
    methods = [e.method for e in catalog.extractions("color.add")]
    assert methods == [PRUNE, TRANSCODER, LABELS, GRAPH, QK]
    for row in catalog.extractions("color.add"):
        p = row.summary["provenance"]
        assert p["parent"] == parent.ref and p["parent_weights_sha256"] == parent.weights_sha256
        assert p["method"] == row.method and "options" in p and p["torch_version"] == torch.__version__


def test_the_pruned_circuit_round_trips(extracted) -> None:
    catalog, pruned, *_ = extracted
    row = _row(catalog, PRUNE)
    assert row.summary["child"] == pruned.child.ref == "color.add.pruned@1"
    assert row.summary["certificate"]["certified"] and row.summary["sparsity"] > 0
    state = load_tensors(catalog.load_artefact(row))
    for name, tensor in pruned.result.state.items():
        assert torch.equal(state[name], tensor)
    assert catalog.load_weights(pruned.child.ref) == catalog.load_artefact(row)
    assert catalog.latest_certificate(pruned.child.ref).certified
    child = catalog.get(pruned.child.ref)
    parent = catalog.get("color.add")
    assert (child.signature, child.contract, child.task) == (parent.signature, parent.contract, parent.task)
    assert row.summary["after"]["nonzero_params"] == pruned.result.after.nonzero


def test_the_transcoder_and_its_labels_round_trip(extracted) -> None:
    catalog, _, transcoded, *_ = extracted
    row = _row(catalog, TRANSCODER)
    tc, meta = Transcoders.from_bytes(catalog.load_artefact(row))
    assert meta["parent"] == "color.add@1"
    for a, b in zip(tc.state_dict().values(), transcoded.transcoders.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert row.summary["replacement"]["accuracy"] == transcoded.replacement.accuracy
    if transcoded.child is not None:
        assert row.summary["circuit"] == transcoded.child.ref and row.summary["certificate"]["certified"]
        assert catalog.load_model(transcoded.child.ref).cfg.d_mlp == tc.cfg.d_sae
    labels_row = _row(catalog, LABELS)
    assert labels_row.summary["transcoder"] == row.id
    stored = json.loads(catalog.load_artefact(labels_row))
    assert stored == [label.to_dict() for label in transcoded.labels]


def test_the_graph_and_qk_round_trip(extracted) -> None:
    catalog, _, _, graph, out = extracted
    row = _row(catalog, GRAPH)
    assert json.loads(catalog.load_artefact(row)) == json.loads(json.dumps(graph.graph))
    assert row.summary["input"] == "(3, 7)" and row.summary["slug"] == "color.add-3-7"
    assert json.loads((out / "color.add-3-7.json").read_text()) == json.loads(catalog.load_artefact(row))
    assert [g["slug"] for g in json.loads((out / "graph-metadata.json").read_text())["graphs"]] == [
        "color.add-3-7"
    ]
    for suffix in (".png", ".svg", ".qk.json", ".faithfulness.png"):
        assert (out / f"color.add-3-7{suffix}").stat().st_size > 0
    qk_row = _row(catalog, QK)
    assert qk_row.summary["graph"] == row.id
    assert len(json.loads(catalog.load_artefact(qk_row))) == len(graph.qk)
    assert graph.graph["metadata"]["info"]["transcoder_extraction"] == _row(catalog, TRANSCODER).id


def test_a_graph_needs_a_transcoder_of_these_very_weights(extracted, tmp_path: Path) -> None:
    catalog, pruned, *_ = extracted
    with pytest.raises(CatalogError, match="no transcoder extraction yet; run `circ extract transcoder"):
        graph_circuit(catalog, pruned.child.ref, [1, 2], out=tmp_path)
    parents = _row(catalog, TRANSCODER)  # trained on color.add, filed under its pruned child
    catalog.add_extraction(pruned.child.ref, TRANSCODER, catalog.load_artefact(parents), parents.summary)
    with pytest.raises(CatalogError, match="was trained on weights"):
        graph_circuit(catalog, pruned.child.ref, [1, 2], out=tmp_path)
