"""Aggregation with fold tests, sanity checks and overlays on small synthetic inputs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

from interp.audit.aggregate import BaselineTest, compare_to_baseline, fold_means, summarise
from interp.audit.overlays import RIGHT, WRONG, labelled_grid, overlay, save_png
from interp.audit.sanity import (
    consistency_pairs, evidence_agreement, evidence_to_input_frame, faithfulness, map_similarity,
    randomisation_curve, randomisation_stages,
)
from interp.stats import corrected_resampled_ttest
from tests.interp.test_attribution import HALF, SIZE, TwoRegionNet, _images, _quadrant
from trainers.common.errors import DataError


def _image_table(shift: dict[str, float], k: int = 4, seed: int = 0) -> pd.DataFrame:
    """Per-image rows: mask_fraction = 0.5 + the model's shift + fold noise, two classes, NM and M."""
    rng = np.random.default_rng(seed)
    rows = []
    fold_noise = rng.normal(0, 0.02, size=(len(shift), k))
    for m, (model, delta) in enumerate(shift.items()):
        for fold in range(k):
            for i, (label, masked) in enumerate([("happy", True), ("happy", True), ("sad", True), ("sad", False)]):
                value = 0.5 + delta + fold_noise[m, fold] + 0.01 * i
                rows.append({"model": model, "fold": fold, "image_id": f"f{fold}-{i}", "label": label,
                             "pred": label, "correct": True, "masked": masked,
                             "mask_fraction": value, "eye_fraction": 1 - value})
    return pd.DataFrame(rows)


def test_fold_means_and_summary_by_hand():
    table = _image_table({"baseline-mix": 0.0}, k=3)
    folds = fold_means(table)
    happy = folds[(folds["class"] == "happy") & (folds["metric"] == "mask_fraction") & (folds["subset"] == "M")]
    expected = table[(table["label"] == "happy")].groupby("fold")["mask_fraction"].mean()
    np.testing.assert_allclose(happy.sort_values("fold")["value"], expected.to_numpy())
    assert set(folds["class"]) == {"all", "happy", "sad"}
    summary = summarise(table)
    row = summary[(summary["class"] == "happy") & (summary["metric"] == "mask_fraction")].iloc[0]
    assert row["mean"] == pytest.approx(expected.mean())
    half = 4.302652729911275 * expected.std(ddof=1) / np.sqrt(3)  # t(0.975, 2)
    assert row["ci_high"] - row["mean"] == pytest.approx(half)
    assert row["direction"] == "lower" and row["k"] == 3 and row["n_images"] == 6


def test_an_arm_without_any_score_stays_in_the_summary_as_unmeasured():
    table = _image_table({"baseline-mix": 0.0, "kd": 0.0}, k=3)
    table.loc[table["model"] == "kd", ["mask_fraction", "eye_fraction"]] = np.nan  # e.g. all-negative maps
    summary = summarise(table)
    kd = summary[summary["model"] == "kd"]
    assert set(kd["class"]) == {"all"} and set(kd["subset"]) == {"NM", "M"}
    assert set(kd["metric"]) == {"mask_fraction", "eye_fraction"}
    assert kd["mean"].isna().all() and (kd["k"] == 0).all() and (kd["n_images"] == 0).all()
    assert summary[summary["model"] == "baseline-mix"]["mean"].notna().all()


def _sizes(k: int) -> Callable[[str | None], pd.DataFrame]:
    """Fold sizes as :meth:`interp.runs.Run.fold_sizes` gives them: 80 training and 20 validation images."""
    return lambda subset: pd.DataFrame({"fold": range(k), "n_train": 80, "n_test": 20})


def test_compare_to_baseline_finds_the_lowering_method():
    table = _image_table({"baseline-mix": 0.0, "cl": -0.2, "kd": 0.0}, k=5)
    result = compare_to_baseline(table, BaselineTest("baseline-mix", ("cl", "kd")), _sizes(5))
    overall = result[result["class"] == "all"].set_index("comparison")
    assert overall.loc["cl vs baseline-mix", "lower"]
    assert overall.loc["cl vs baseline-mix", "effect"] == pytest.approx(-0.2, abs=0.05)
    assert not overall.loc["kd vs baseline-mix", "lower"]
    folds = fold_means(table)
    pick = folds[(folds["class"] == "all") & (folds["subset"] == "M") & (folds["metric"] == "mask_fraction")]
    wide = pick.pivot(index="fold", columns="model", values="value")
    by_hand = corrected_resampled_ttest(wide["cl"], wide["baseline-mix"], 80, 20)
    assert overall.loc["cl vs baseline-mix", "p_raw"] == pytest.approx(by_hand.pvalue)
    assert overall.loc["cl vs baseline-mix", "ci_low"] == pytest.approx(by_hand.ci_low)
    assert set(result["class"]) == {"all", "happy", "sad"}  # per class: sad has one masked image per fold
    assert (result["p_holm"] >= result["p_raw"] - 1e-12).all() and (result["test"] == "corrected-t").all()
    two_folds = _image_table({"baseline-mix": 0.0, "cl": -0.2}, k=2)
    two = compare_to_baseline(two_folds, BaselineTest("baseline-mix", ("cl",)), _sizes(2))
    assert two["p_raw"].isna().all() and two["effect"].notna().all()  # k = 2: effects, no p-values
    assert two["note"].str.contains("min_folds").all()


def test_bad_tables_are_refused():
    with pytest.raises(DataError, match="lacks"):
        fold_means(pd.DataFrame({"model": ["a"], "fold": [0]}))


def test_map_similarity_extremes():
    ramp = np.add.outer(np.arange(12.0), np.arange(12.0))
    same = map_similarity(ramp, ramp)
    assert same == pytest.approx({"spearman": 1.0, "spearman_abs": 1.0, "ssim": 1.0})
    assert map_similarity(ramp, -ramp)["spearman"] == pytest.approx(-1.0)
    assert np.isnan(map_similarity(np.ones((8, 8)), ramp[:8, :8])["spearman"])


class SmallNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(8, 3)
        self.gradcam_layer = "body.2"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).mean(dim=(2, 3)))


def test_randomisation_curve_cascades_from_the_top_and_leaves_the_model_alone():
    model = SmallNet().eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    stages = randomisation_stages(model)
    assert [name for name, _ in stages] == ["head", "body.2", "body.0"]
    curve = randomisation_curve(model, torch.randn(4, 3, 16, 16, generator=torch.Generator().manual_seed(1)))
    assert list(curve["stage"].unique()) == [0, 1, 2, 3]
    means = curve.groupby("stage")["spearman"].mean()
    assert means[0] == 1.0 and means[3] < 0.9
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state[key])


def test_cross_fold_consistency():
    rng = np.random.default_rng(0)
    same = {fold: rng.random((3, 10, 10)) for fold in (0,)}
    same.update({1: same[0], 2: same[0]})
    unseen = {fold: np.zeros(3, dtype=bool) for fold in range(3)}
    np.testing.assert_allclose(consistency_pairs(same, unseen)["spearman"], 1.0)
    noisy = consistency_pairs({fold: rng.random((3, 10, 10)) for fold in range(3)}, unseen)
    assert (noisy["spearman"].abs() < 0.5).all() and set(noisy["kind"]) == {"held-out"}


def test_evidence_agreement_and_frame_mapping():
    evidence = np.zeros((2, 8, 8))
    evidence[0, :4, :4] = 3.0  # the second image is neutral: no evidence
    maps = np.kron(evidence, np.ones((4, 4)))  # the same at 32 px
    result = evidence_agreement(maps, evidence)
    assert result.loc[0, "evidence_fraction"] == pytest.approx(1.0)
    assert result.loc[0, "evidence_rank_accuracy"] == pytest.approx(1.0)
    assert result.loc[0, "spearman"] == pytest.approx(1.0)
    assert result.loc[1, ["spearman", "evidence_fraction", "evidence_rank_accuracy"]].isna().all()
    cropped = evidence_to_input_frame(evidence[0], (200, 200), (0, 0, 100, 100), 16)
    assert cropped.shape == (16, 16) and cropped[2:14, 2:14].min() == pytest.approx(3.0)


def test_faithfulness_occluding_the_used_region_hurts_more_than_a_shifted_one():
    model = TwoRegionNet().eval()
    images = _images(6)
    regions = np.stack([_quadrant(True)] * len(images))
    result = faithfulness(model, images, np.zeros(len(images), dtype=int), regions, repeats=4)
    assert (result["correct"] == 1).all()
    assert (result["correct_occluded"] == 0).all()
    assert result["correct_random"].mean() > 0
    with pytest.raises(ValueError, match="input size"):
        faithfulness(model, images, np.zeros(6, dtype=int), regions[:, :HALF])


def test_overlay_border_outline_and_sheet(tmp_path):
    image = np.full((SIZE, SIZE, 3), 128, dtype=np.uint8)
    heat = np.zeros((4, 4))
    heat[0, 0] = 1.0
    square = np.array([[8, 8], [24, 8], [24, 24], [8, 24]])
    right = np.asarray(overlay(image, heat, correct=True, polygon=square, size=64))
    wrong = np.asarray(overlay(image, heat, correct=False, size=64))
    assert right.shape == (64, 64, 3)
    assert tuple(right[1, 32]) == RIGHT and tuple(wrong[1, 32]) == WRONG
    assert right[16, 32].min() > 200  # the white mask outline (top edge at y = 8 * 2)
    assert right[10, 10, 0] > right[50, 50, 0]  # heat (red end of jet) top-left, not bottom-right
    images = pd.DataFrame({"model": ["cl", "cl"], "image_id": ["s1_m", "s1"], "label": ["happy", "happy"],
                           "pred": ["happy", "sad"], "masked": [True, False], "correct": [True, False],
                           "pair_id": ["p1", "p1"]})
    sheet = labelled_grid(images, {("cl", "s1_m"): Image.fromarray(right), ("cl", "s1"): Image.fromarray(wrong)})
    path = save_png(sheet, tmp_path / "sheet.png")
    width, height = Image.open(path).size
    assert width > 128 and height > 64  # two tiles plus the arm's label column and the header row
    pixels = np.asarray(Image.open(path))
    assert (pixels[:, : width - 128] < 100).any()  # the row label is drawn left of the tiles


# -- the analysis step on a tiny run directory with real checkpoints ----------------------------

RUN_SIZE = 96


def _write_dataset(root: Path) -> pd.DataFrame:
    """Two subjects (one per fold), two classes, each pose unmasked and masked; evidence maps named in the
    manifest's ``evidence`` column, as the demo writes them."""
    rng = np.random.default_rng(0)
    polygon = "[[20,55],[76,55],[76,92],[20,92]]"
    landmarks = "[[34,36],[62,36],[48,50],[38,66],[58,66]]"
    rows = []
    for fold, subject in enumerate(("s0", "s1")):
        for label in ("happy", "sad"):
            for masked in (False, True):
                image_id = f"{subject}-{label}-{'m' if masked else 'n'}"
                pixels = rng.integers(0, 255, (RUN_SIZE, RUN_SIZE, 3), dtype=np.uint8)
                (root / "images").mkdir(parents=True, exist_ok=True)
                Image.fromarray(pixels).save(root / "images" / f"{image_id}.png")
                (root / "evidence").mkdir(exist_ok=True)
                np.save(root / "evidence" / f"{image_id}.npy", rng.random((16, 16)).astype(np.float16))
                rows.append({"image_id": image_id, "path": f"images/{image_id}.png", "subject": subject,
                             "label": label, "masked": masked, "pair_id": f"{subject}-{label}", "source": "test",
                             "landmarks": landmarks, "landmark_layout": "five-point", "mask_polygon": polygon,
                             "evidence": f"evidence/{image_id}.npy", "fold": fold})
    return pd.DataFrame(rows)


def _write_run(tmp_path: Path, models: tuple[str, ...] = ("baseline-mix", "cl")) -> Path:
    """A real ``trainers run`` (smoke preset at 96 px, whole images, one epoch) of ``models`` on the dataset."""
    from trainers.config import load_preset, override
    from trainers.data.manifest import Manifest
    from trainers.runner import run_study

    table = _write_dataset(tmp_path / "data").drop(columns="fold")
    manifest = Manifest(table, tmp_path / "data").save(tmp_path / "data" / "manifest.csv")
    config = override(load_preset("smoke"), image_size=RUN_SIZE, face_crop=False, epochs=1)
    run_study(manifest, config, "smoke", list(models), tmp_path / "run", device="cpu")
    return tmp_path / "run"


def test_attributions_step_writes_the_audit_and_skips_when_up_to_date(tmp_path, monkeypatch):
    from interp.analyze import analyze
    from interp.regions import REGION_METRICS

    monkeypatch.setenv("MASKFER_CACHE", str(tmp_path / "cache"))
    run = _write_run(tmp_path)
    options = {"attributions": {"max_images": "4", "sanity_images": "2", "randomisation_stages": "2",
                                "overlay_pairs": "1", "map_size": "12", "null_draws": "3"}}
    result = analyze(run, only=["attributions"], options=options)
    assert result.ran == ["attributions"]
    out = run / "analysis" / "attributions" / "gradcam"
    images = pd.read_parquet(out / "images.parquet")
    assert len(images) == 2 * 2 * 2  # models x folds x (one pair = two images)
    expected = ["model", "fold", "image_id", "label", "pred", "correct", "masked", *REGION_METRICS,
                "faith_correct_occluded", "faith_correct_random", "evidence_spearman", "evidence_fraction"]
    assert all(column in images.columns for column in expected)
    assert images["mask_share"].between(0.2, 0.25).all()  # 56 x 37 px of 96 x 96
    assert images.groupby("pair_id")["masked"].nunique().eq(2).all()  # both images of each pair
    stored = np.load(out / "maps" / "cl" / "fold-1.npz")
    assert stored["maps"].shape == (2, 12, 12) and stored["maps"].dtype == np.float16
    assert list(stored["image_id"]) == list(images[(images["model"] == "cl") & (images["fold"] == 1)]["image_id"])
    assert len(list((out / "overlays").glob("*/*.png"))) == 2 * 2 and (out / "overlays" / "figure6.png").is_file()
    for name in ("summary", "comparisons", "metrics", "sanity/randomisation_summary", "sanity/randomisation_check",
                 "sanity/consistency", "sanity/faithfulness", "sanity/evidence"):
        assert (out / f"{name}.parquet").is_file() and (out / f"{name}.csv").is_file(), name
    check = pd.read_parquet(out / "sanity" / "randomisation_check.parquet")
    assert set(zip(check["model"], check["fold"])) == {(m, f) for m in ("baseline-mix", "cl") for f in (0, 1)}
    assert check["passed"].dtype == bool and (check["threshold"] == 0.5).all()
    consistency = pd.read_parquet(out / "sanity" / "consistency.parquet")
    assert set(consistency["kind"]) == {"held-out vs trained"}  # each sanity image is in one fold's validation
    summary = pd.read_parquet(out / "summary.parquet")
    reference = summary[(summary["metric"] == "mask_fraction") & (summary["class"] == "all")]
    assert reference["mask_share"].between(0.2, 0.25).all() and reference["randomised_mask_fraction"].notna().any()
    assert set(summary["init"]) == {"random"}
    assert set(pd.read_csv(out / "comparisons.csv")["comparison"]) == {"cl vs baseline-mix"}
    scored = images["positive_share"] > 0  # the true class's map of the tiny untrained model may be all negative
    assert scored.any() and images.loc[scored, "evidence_fraction"].notna().all()  # evidence maps found via the manifest
    record = json.loads((out / "audit.json").read_text())
    assert "images.parquet" in record["files"]
    _check_shift_outputs(out, images, record)
    again = analyze(run, only=["attributions"], options=options)
    assert again.skipped == ["attributions"] and not again.ran


def test_choose_images_keeps_pairs_whole():
    from interp.audit.pipeline import choose_images

    table = pd.DataFrame({"image_id": ["a-n", "a-m", "b-n", "c-n", "c-m"], "pair_id": ["a", "a", "", "c", "c"]})
    assert choose_images(table) == list(table["image_id"])
    assert choose_images(table, 3) == ["a-n", "a-m", "b-n"]
    assert choose_images(table, 4) == ["a-n", "a-m", "b-n"]  # the c pair would be split: left out
    assert choose_images(table.iloc[::-1].reset_index(drop=True), 1) == ["c-m"]  # a pair larger than the cap


def _check_shift_outputs(out: Path, images: pd.DataFrame, record: dict) -> None:
    """The attention-shift tables and the layer record of the attributions step on the tiny run."""
    assert (images["target"] == images["label"]).all()  # the true class is the default target
    assert {"anchor", "positive_share", "share_upper", "share_lower", "shift_index", "content_index"} <= set(images)
    assert set(images.loc[images["masked"], "anchor"]) == {"partner"} and set(images.loc[~images["masked"], "anchor"]) == {"own"}
    pairs = pd.read_parquet(out / "shift_pairs.parquet")
    assert len(pairs) == 2 * 2  # models x folds x one pair
    assert np.allclose(pairs["d"], pairs["u_m"] - pairs["u_nm"], equal_nan=True)
    shift = pd.read_parquet(out / "shift.parquet")
    assert {"shift", "learned", "shift-correct-both", "did"} <= set(shift["quantity"])
    did = shift[shift["quantity"] == "did"]
    assert list(did["model"]) == ["cl"] and list(did["reference"]) == ["baseline-mix"]
    assert set(shift["family_kind"]) <= {"confirmatory", "table", "mechanism", "exploratory"}
    assert shift.loc[shift["quantity"] == "shift", "n_draws"].between(1, 3).all()  # draws with a defined effect
    null = pd.read_parquet(out / "null.parquet")
    assert {"mask_fraction", "shift_index", "shift_d"} <= set(null["metric"]) and null["n_draws"].max() == 3
    layers = record["layers"]
    assert set(layers) == {"baseline-mix", "cl"} and all(len(info["grid"]) == 2 for info in layers.values())
