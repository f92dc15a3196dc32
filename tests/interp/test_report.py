"""python -m interp.report: the PDF of a real analysed smoke study, read back with pypdf and rendered by pdftoppm."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

import interp.results
from interp.report import available
from interp.report.__main__ import main
from interp.report.sections import SECTIONS
from tests.study_fixture import labelled_cross_dataset, smoke_study  # noqa: F401  (pytest fixture)

VIEWS = (("NM", "M"), ("PE-NM", "PE-M"))


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def report(smoke_study: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """The full report of the smoke study (one build for the module), written outside the study."""
    out = tmp_path_factory.mktemp("report") / "study.pdf"
    assert main([str(smoke_study), "--out", str(out), "--no-compute"]) == 0
    return out


@pytest.fixture(scope="module")
def pages(report: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(report).pages]


def test_every_section_title_is_a_heading_an_outline_entry_and_in_the_contents(report, pages):
    reader = PdfReader(report)
    titles = [f"{number} {SECTIONS[name].title}" for number, name in enumerate(available(), start=1)]
    assert [item.title for item in reader.outline if not isinstance(item, list)] == titles
    contents = _words(pages[0])
    body = _words(" ".join(pages[1:]))
    for title in titles:
        assert title in contents and title in body
    assert reader.metadata.title == "smoke: study report"
    assert reader.metadata.author == "maskfer interp.report" and "smoke" in reader.metadata.subject
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]


def test_accuracy_of_every_arm_and_view_is_the_results_value(smoke_study, pages):  # noqa: F811
    accuracy = interp.results.load(smoke_study).accuracy().set_index(["model", "subset"])
    text = _words(" ".join(pages))

    def cells(arm: str, view: str) -> str:
        row = accuracy.loc[(arm, view)]
        return (f"{100 * row['accuracy_mean']:.2f} \u00b1 {100 * row['accuracy_sd']:.2f} "
                f"[{100 * row['accuracy_ci_low']:.2f}, {100 * row['accuracy_ci_high']:.2f}] "
                f"{100 * row['macro_f1_mean']:.2f}")

    arms = list(dict.fromkeys(accuracy.index.get_level_values("model")))
    assert arms == ["baseline-nm", "baseline-mix", "cl"]
    for first, second in VIEWS:
        for arm in arms:
            assert f"{arm} {cells(arm, first)} {cells(arm, second)}" in text


def test_images_are_embedded_and_every_page_renders(report, pages, tmp_path):
    reader = PdfReader(report)
    preview = next(i for i, page in enumerate(pages) if "Preview sheet of subject" in page)
    assert len(reader.pages[preview].images) >= 14  # one subject's NM and M thumbnails of 7 classes
    figure6 = next(i for i, page in enumerate(pages) if "The same image pairs" in page)
    assert len(reader.pages[figure6].images) >= 1
    assert sum(len(page.images) for page in reader.pages) >= 14 + 3  # + confusion, projections, figure 6
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(report), str(tmp_path / "page")], check=True)
    rendered = sorted(tmp_path.glob("page-*.png"))
    assert len(rendered) == len(reader.pages) and all(path.stat().st_size > 500 for path in rendered)


def test_sections_subset(smoke_study, tmp_path):  # noqa: F811
    out = tmp_path / "part.pdf"
    assert main([str(smoke_study), "--out", str(out), "--no-compute", "--sections", "limitations,results",
                 "--title", "Appendix B"]) == 0
    reader = PdfReader(out)
    assert [item.title for item in reader.outline] == ["1 Results", "2 Limitations"]
    text = _words(" ".join(page.extract_text() for page in reader.pages))
    assert "Appendix B" in text and "Dataset" not in text and "Demo data, not real faces" in text
    assert reader.metadata.title == "Appendix B"


def test_no_compute_with_a_missing_step_exits_2_naming_the_command(known_run, capsys):
    assert main([str(known_run), "--no-compute", "--sections", "results,statistics"]) == 2
    error = capsys.readouterr().err
    assert f"python -m interp.analyze {known_run} --only tables" in error
    assert f"python -m interp.analyze {known_run} --only stats" in error
    assert not (known_run / "report.pdf").exists()


@pytest.mark.slow
def test_missing_steps_are_computed_first(known_run, capsys):
    assert main([str(known_run), "--sections", "results"]) == 0
    assert "computed first: tables" in capsys.readouterr().out
    text = _words(" ".join(page.extract_text() for page in PdfReader(known_run / "report.pdf").pages))
    assert "baseline-mix 85.71 \u00b1 0.00" in text  # known_rule: 6 of 7 classes right on NM in every fold


@pytest.mark.parametrize("argv", [["--sections", "results,nonsense"], []])
def test_bad_input_exits_2(tmp_path, known_run, argv, capsys):
    run = known_run if argv else tmp_path
    assert main([str(run), "--no-compute", *argv]) == 2
    error = capsys.readouterr().err
    assert ("unknown section(s) nonsense" in error) if argv else (f"{tmp_path / 'study.json'}" in error)


def test_a_cross_dataset_study_says_so_in_its_protocol(smoke_study, tmp_path):  # noqa: F811
    out = tmp_path / "cross.pdf"
    assert main([str(labelled_cross_dataset(smoke_study, tmp_path / "cross")), "--out", str(out), "--no-compute",
                 "--sections", "protocol"]) == 0
    text = _words(" ".join(page.extract_text() for page in PdfReader(out).pages))
    assert "Each fold trains a fresh model on the other folds and predicts the test dataset" in text
    assert ("Cross-dataset study: every fold's model trains on the folds of raf-masked/manifest.csv and is "
            "evaluated on all of msd/manifest.csv") in text


def test_figure6_rows_and_columns_are_labelled_in_readable_text(report, smoke_study):  # noqa: F811
    """Figure 6's arm names, NM/M + true-class headers and predicted classes are page text of at least 7 pt
    (read back with pdftotext and pypdf), beside one embedded tile per arm and image."""
    results = interp.results.load(smoke_study)
    tiles = results.overlays()
    images = results.attention().drop_duplicates("image_id").set_index("image_id")
    reader = PdfReader(report)
    number = next(i for i, page in enumerate(reader.pages) if "The same image pairs" in page.extract_text())
    sizes: dict[str, float] = {}

    def visit(text: str, cm, tm, font, size) -> None:
        if text.strip():
            sizes[text.strip()] = min(sizes.get(text.strip(), 99.0), size * abs(tm[3]) * abs(cm[3]))

    reader.pages[number].extract_text(visitor_text=visit)
    headers = {f"{'M' if images.loc[i, 'masked'] else 'NM'} \u00b7 {images.loc[i, 'label']}" for i in tiles["image_id"]}
    labels = set(tiles["model"]) | headers
    assert all(label in sizes and sizes[label] >= 7 for label in labels), {label: sizes.get(label) for label in labels}
    if shutil.which("pdftotext") is not None:
        text = subprocess.run(["pdftotext", "-f", str(number + 1), "-l", str(number + 1), str(report), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert all(label in text for label in labels)
    assert len(reader.pages[number].images) >= len(tiles)


def test_attention_shift_section_reads_back_with_its_figures_and_checks(smoke_study, pages):  # noqa: F811
    results = interp.results.load(smoke_study)
    body = _words(" ".join(pages[1:]))
    start = body.index("Attention shift and the faithfulness of the maps For each pair")
    section = body[start:]
    for caption in ("Attention shift d per arm:", "Upper-face and lower-face share of the positive evidence",
                    "Mean masked minus non-masked map per arm", "ROAD's noisy linear imputation"):
        assert caption in section, caption
    agreement = results.attention_agreement()
    verdict = "holds" if bool(agreement["same_order"].iloc[0]) else "does not hold"
    assert f"The arm ordering {verdict} across the methods" in section or "fewer than two arms" in section
    summary = results.faithfulness()
    row = summary[(summary["measure"] == "auc_deletion")].iloc[0]
    assert f"{row['mean']:.3f}" in section
