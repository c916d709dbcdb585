"""Verdicts: certified, verified (sampled), and each way of failing, with the union bound."""

from __future__ import annotations

from pathlib import Path

import pytest

from circ import api
from circ.lang.check import check
from circ.lang.modules import load_text
from circ.learn.catalog import Catalog, Sample
from circ.settings import packaged_catalog_dir
from circ.verify.certify import certify
from circ.verify.report import format_bound, verify_program
from circ.verify.statistics import upper_bound

from .conftest import noisy, register
from support import EXAMPLES, certificate, example_files

PROGRAM = """
circuit plus(a: Color, b: Color) -> Color ensures result == (a + b) % 10 learned "t.add";
circuit bigger(a: Color, b: Color) -> Color ensures result >= a and result >= b learned "t.max";

fn main(a: Color, b: Color) -> Color ensures result >= (b + b) % 10 { bigger(plus(a, b), plus(b, b)) }
"""


def verify(catalog: Catalog, text: str = PROGRAM):
    return verify_program(check(load_text(text, "t.circ")), catalog, examples=30)


@pytest.fixture
def stdlib(tmp_path: Path):
    """A fresh install's catalog: an empty database in front of the packaged stdlib."""
    with Catalog(
        f"sqlite:///{tmp_path / 'empty.db'}", tmp_path / "blobs", packaged=packaged_catalog_dir()
    ) as c:
        yield c


def test_proved_and_exact_on_every_input_is_certified(catalog) -> None:
    certify(catalog, "t.add")
    certify(catalog, "t.max")
    report = verify(catalog)
    assert report.verdict == "certified" and report.ok
    assert [(c.learned, c.calls, c.conforms) for c in report.circuits] == [
        ("t.add", 2, True),
        ("t.max", 1, True),
    ]
    assert report.union_bound == 0.0


def test_a_sampled_certificate_gives_verified_sampled(catalog) -> None:
    certify(catalog, "t.add")
    sha = catalog.get("t.max").weights_sha256
    sample = Sample("uniform", 50, 0, upper_bound(0, 50))
    catalog.add_certificate(
        "t.max", certificate(100, sha=sha, method="sampled", n_checked=50, samples=(sample,))
    )
    report = verify(catalog)
    assert report.verdict == "verified (sampled)"
    assert report.union_bound == pytest.approx(sample.upper95) and report.union_bound > 0
    assert "≤" in format_bound(report.union_bound, report.circuits), "a sample never reads as 0%"


def test_a_certificate_for_other_weights_is_refused(catalog, tmp_path) -> None:
    """A record whose weights changed after certification keeps nothing of its old certificate."""
    from circ.learn.catalog.schema import Certificate

    certify(catalog, "t.add")
    certify(catalog, "t.max")

    def tamper(s) -> None:
        for row in s.query(Certificate).all():
            row.weights_sha256 = "f" * 64

    catalog.transaction(tamper)
    report = verify(catalog)
    assert report.verdict.startswith("failed: a certificate of t.add was computed on weights ffffffffffff…")
    assert all(c.certificate is None for c in report.circuits)


def test_a_missing_certificate_fails(catalog) -> None:
    certify(catalog, "t.add")
    assert verify(catalog).verdict == "failed: no certificate for t.max"


def test_a_noisy_circuit_fails_certification_with_the_union_bound(catalog, color_provider, tmp_path) -> None:
    register(catalog, tmp_path, "t.add", "color_add", noisy(color_provider.models["t.add"].model))
    add, big = certify(catalog, "t.add"), certify(catalog, "t.max")
    assert add.accuracy < 1.0 == big.accuracy
    report = verify(catalog)
    assert report.union_bound == pytest.approx(2 * (1 - add.accuracy))  # plus is called twice
    wrong = round((1 - add.accuracy) * 100)
    assert report.verdict == (
        f"failed: property tests failed in main; circuits below 100%: t.add {wrong} wrong of 100 inputs; "
        f"union bound on the program's error rate: {report.union_bound:.3g} (exact)"
    )


def test_an_unavailable_circuit_fails_without_a_traceback(catalog) -> None:
    text = PROGRAM.replace('"t.max"', '"t.gone"')
    report = verify(catalog, text)
    assert report.verdict.startswith("failed: circuit unavailable: t.gone;")
    assert [o.status for o in report.obligations] == ["proved"]


def test_the_shipped_combinators_example_is_certified(stdlib) -> None:
    report = verify_program(api.check(EXAMPLES / "combinators.circ"), stdlib, examples=15)
    assert report.verdict == "certified"
    assert {c.learned: c.calls for c in report.circuits} == {
        "color.succ": 12,
        "color.add": 6,
        "color.max": 6,
        "color.recolor_1_2": 9,
    }


def test_the_wrap_around_example_fails_in_the_proof_and_the_tests(stdlib) -> None:
    report = verify_program(api.check(EXAMPLES / "refuted" / "wrap_around.circ"), stdlib, examples=30)
    assert report.verdict == "failed: 1 obligation refuted; property tests failed in add_two"
    [failed] = [p for p in report.properties if p.failure is not None]
    assert failed.failure.inputs == (("c", 8),) and failed.failure.output == 0


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_every_example_fails_only_where_the_catalog_says_it_must(path: Path, stdlib) -> None:
    """Every example proves; while some stdlib circuits are not shipped (or not exact), the verdict
    may fail for that reason, and for no other."""
    report = verify_program(api.check(path), stdlib, examples=10)
    assert all(o.status == "proved" for o in report.obligations)
    assert all(c.conforms is not False for c in report.circuits)
    usable = [c for c in report.circuits if not c.unavailable]
    exact = all(c.certificate is not None and c.certificate.accuracy == 1.0 for c in usable)
    if exact:
        assert all(p.failure is None for p in report.properties)
    if len(usable) == len(report.circuits) and exact:
        assert report.verdict in ("certified", "verified (sampled)"), report.verdict
    else:
        assert report.verdict.startswith("failed: ")
