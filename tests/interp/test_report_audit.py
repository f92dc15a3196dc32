"""python -m interp.report on a study written by ``interp.audit``: the PDF read back says the model was audited,
not trained here, prints its card and Grad-CAM layer, and has the mask-sensitivity section with the results' numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

import interp.results
from interp.report.__main__ import main
from tests.audit_fixture import audit_data, audited_study, unlabelled_study  # noqa: F401  (session fixtures)


def _text(pdf: Path) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())


@pytest.fixture(scope="module")
def report_text(audited_study: Path, tmp_path_factory: pytest.TempPathFactory) -> str:  # noqa: F811
    out = tmp_path_factory.mktemp("audit-report") / "audit.pdf"
    assert main([str(audited_study), "--out", str(out), "--no-compute"]) == 0
    return _text(out)


def test_protocol_says_audited_and_prints_the_card(report_text):
    assert "audits a model that was not trained here" in report_text
    assert "single fold all" in report_text and "audited, not trained here" in report_text
    assert "anger, disgusted, fearful, happiness, sadness, surprised, neutral, contempt" in report_text
    assert "angry, disgust, fear, happy, sad, surprise, neutral, contempt" in report_text
    assert "4 (8x8 map; deepest convolution with a map >= 7x7)" in report_text


def test_mask_sensitivity_section_shows_the_results_numbers(report_text, audited_study):  # noqa: F811
    assert "Mask sensitivity" in report_text and "Share of pairs tiny predicts as each class" in report_text
    overall = interp.results.load(audited_study).mask_sensitivity().set_index("class").loc["all"]
    flip = (f"{100 * overall['flip_rate']:.1f}% [{100 * overall['flip_ci_low']:.1f}, "
            f"{100 * overall['flip_ci_high']:.1f}]")
    assert f"tiny all 21 {flip}" in report_text


def test_unlabelled_audit_reads_no_labels(unlabelled_study, tmp_path):  # noqa: F811
    out = tmp_path / "unlabelled.pdf"
    assert main([str(unlabelled_study), "--out", str(out), "--no-compute"]) == 0
    text = _text(out)
    assert "without labels" in text and "no labels" in text
