"""Feature labels say what a feature does on the whole domain, and an "exact" one really is."""

from __future__ import annotations

import math

import numpy as np
import torch

from circ.learn.data import get_task
from circ.learn.extract.domain import whole_domain
from circ.learn.extract.labels import _fourier, compress, label_features
from circ.learn.extract.train_transcoder import TrainOptions, mlp_io, train_transcoders
from circ.learn.extract.transcoder import TranscoderConfig


def test_compress_writes_runs_as_ranges() -> None:
    assert compress([0, 1, 2, 3, 7, 9, 10, 11]) == "{0..3, 7, 9..11}"
    assert compress([4, 5]) == "{4, 5}"
    assert compress([2]) == "{2}"


def test_exact_labels_hold_on_every_input(load) -> None:
    model, domain = load("bool.and")
    c = model.cfg
    tc = train_transcoders(
        model, domain, TranscoderConfig(1, c.d_model, 32, c.d_model), TrainOptions(steps=300)
    )
    labels = label_features(model, tc, domain, ["a", "b"])
    assert len(labels) == 32
    with torch.no_grad():
        (x,), _ = mlp_io(model, domain.tokens)
        fires = (tc.encode(0, x)[:, -1] > 0).numpy()  # [inputs, features] at the read position
    values = {
        "a": domain.inputs[0][:, 0],
        "b": domain.inputs[1][:, 0],
        "result": domain.targets[:, 0].numpy(),
    }
    checked = 0
    for label in labels:
        assert label.events == 4 and label.fires == int(fires[:, label.feature].sum())
        if label.exact and label.variable is not None:
            predicted = np.isin(values[label.variable], label.values)
            assert np.array_equal(predicted, fires[:, label.feature]), label.description
            checked += 1
        if not label.exact:
            assert label.agreement < 1.0 and "mostly" in label.description
    assert checked > 0


def test_fourier_finds_the_frequency_of_a_sum() -> None:
    domain = whole_domain(get_task("mod_add", p=7))
    a, b = domain.inputs[0][:, 0], domain.inputs[1][:, 0]
    acts = torch.tensor(np.cos(2 * math.pi * 2 * (a + b) / 7), dtype=torch.float32)
    found = _fourier(domain, acts, ["a", "b"])
    assert found is not None and found["share"] > 0.99
    assert found["text"] == "100% of its variance at frequency 2 (strongest mode: a + b)"
    diff = torch.tensor(np.sin(2 * math.pi * 3 * (a - b) / 7), dtype=torch.float32)
    assert "frequency 3 (strongest mode: a − b)" in _fourier(domain, diff, ["a", "b"])["text"]
    # a product of one frequency in a and in b spreads over four modes, all of frequency 3
    product = torch.tensor(
        np.cos(2 * math.pi * 3 * a / 7) * np.cos(2 * math.pi * 3 * b / 7), dtype=torch.float32
    )
    assert _fourier(domain, product, ["a", "b"])["share"] > 0.99
