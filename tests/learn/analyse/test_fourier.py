"""Fourier spectra: planted frequencies come back, in the token and the discrete-log basis."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from circ.learn.analyse.bases import bases, dlog_basis, primitive_root, token_basis
from circ.learn.analyse.fourier import fourier_basis, spectrum
from circ.learn.analyse.key_frequencies import key_frequencies
from circ.learn.analyse.sparsity import gini, gini_rows


def planted(n: int, freqs: dict[int, float], d: int = 32, noise: float = 0.01, seed: int = 0) -> np.ndarray:
    """`[n, d]`: Σ_k amp_k · (cos(w_k x) u_k + sin(w_k x) v_k) in random directions, plus noise."""
    rng = np.random.default_rng(seed)
    x = np.arange(n)[:, None]
    w = noise * rng.standard_normal((n, d))
    for k, amp in freqs.items():
        u, v = rng.standard_normal((2, d))
        w += amp * (np.cos(2 * np.pi * k * x / n) * u + np.sin(2 * np.pi * k * x / n) * v)
    return w


@pytest.mark.parametrize("n", [7, 30, 31, 96])
def test_the_basis_is_orthonormal(n: int) -> None:
    f = fourier_basis(n)
    assert np.allclose(f @ f.T, np.eye(n), atol=1e-10)


def test_primitive_roots() -> None:
    assert (primitive_root(97), primitive_root(113), primitive_root(23), primitive_root(31)) == (5, 3, 5, 3)
    for p in (5, 7, 11, 13, 97, 113):
        g = primitive_root(p)
        assert sorted(pow(g, i, p) for i in range(p - 1)) == list(range(1, p))  # it generates Z_p^*
    with pytest.raises(ValueError):
        primitive_root(12)


def test_planted_frequencies_are_recovered_in_the_token_basis() -> None:
    p = 31
    w = planted(p, {3: 1.0, 7: 0.8, 11: 0.6})
    spec = spectrum(w, token_basis(p))
    assert set(spec.ranked()[:3]) == {3, 7, 11}
    assert sorted(key_frequencies(spec)) == [3, 7, 11]
    assert spec.frequencies_for(0.9) == 3
    assert spec.shares.sum() == pytest.approx(1.0)
    assert spec.energy.sum() == pytest.approx((w**2).sum())  # orthonormal: energy is conserved


def test_planted_frequencies_are_recovered_in_the_discrete_log_basis() -> None:
    """A function of log_g x is sparse in the dlog order and spread out in the token order."""
    p = 31
    g = primitive_root(p)
    by_log = planted(p - 1, {4: 1.0, 9: 0.7, 15: 0.5})  # 15 = (p−1)/2: the Nyquist term, cosine only
    w = np.zeros((p, by_log.shape[1]))
    for i in range(p - 1):
        w[pow(g, i, p)] = by_log[i]
    dlog = spectrum(w, dlog_basis(p))
    assert sorted(key_frequencies(dlog)) == [4, 9, 15]
    assert dlog.basis.generator == g
    token = spectrum(w, token_basis(p))
    assert key_frequencies(token) == []
    assert token.frequencies_for(0.9) > 3 * dlog.frequencies_for(0.9)


def test_a_flat_spectrum_has_no_key_frequencies() -> None:
    w = np.random.default_rng(1).standard_normal((97, 64))
    assert key_frequencies(spectrum(w, token_basis(97))) == []
    assert [b.name for b in bases(97)] == ["token", "dlog"]
    assert [b.name for b in bases(9)] == ["token"]  # Z_9^* has no dlog basis of Z_9's tokens


def test_gini() -> None:
    assert gini(np.ones(10)) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 5.0])) == pytest.approx(0.75)  # 1 − 1/n: all weight on one
    rows = torch.rand(5, 17)
    assert torch.allclose(gini_rows(rows), torch.tensor([gini(r.numpy()) for r in rows]), atol=1e-6)
