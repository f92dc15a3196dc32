"""Projections and cluster-quality numbers of validation embeddings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from interp.embeddings import cluster_quality, knn_accuracy, pair_distances, projections, quality_rows
from interp.runs import open_run


def _fold(known_run, model="cl", fold=0):
    run = open_run(known_run)
    table = run.predictions().query("model == @model and fold == @fold").reset_index(drop=True)
    return table, run.embeddings(model, fold)


def test_pair_distance_zero_when_masked_features_equal_their_partner(known_run):
    table, features = _fold(known_run)
    partner = table.set_index("image_id")
    same = features.copy()
    for row, image in table.iterrows():
        if image["masked"]:
            source = partner.index.get_loc(image["image_id"].removesuffix("-m") + "-n")
            same[row] = features[source]
    distance, ratio = pair_distances(same, table)
    assert distance == pytest.approx(0, abs=1e-6) and ratio == pytest.approx(0, abs=1e-6)
    rng = np.random.default_rng(0)
    _, random_ratio = pair_distances(rng.normal(size=features.shape), table)
    assert 0.7 < random_ratio < 1.3


def test_knn_and_silhouette_separate_classes_from_noise(known_run):
    table, features = _fold(known_run)
    labels, subjects = table["label"].to_numpy(), table["subject"].to_numpy()
    assert knn_accuracy(features, labels, subjects, neighbours=1) == 1.0
    assert np.isnan(knn_accuracy(features, labels, np.zeros(len(labels)), neighbours=1))
    good = cluster_quality(table, features)
    noise = cluster_quality(table, np.random.default_rng(1).normal(size=features.shape))
    assert good["silhouette"] > 0.5 > noise["silhouette"]
    rows = pd.DataFrame(quality_rows(table, features, neighbours=1)).set_index("scope")
    assert list(rows.index) == ["NM", "M", "both"] and rows.loc["both", "n"] == 28
    assert np.isnan(rows.loc["NM", "pair_distance"]) and rows.loc["both", "pair_distance"] > 0


def test_tsne_projection_is_seeded_and_covers_scopes(known_run):
    table, features = _fold(known_run)
    first = projections(table, features, ("tsne",), seed=3)
    again = projections(table, features, ("tsne",), seed=3)
    assert np.allclose(first[["x", "y"]], again[["x", "y"]])
    assert first.groupby("scope").size().to_dict() == {"NM": 14, "M": 14, "both": 28}
    assert set(first.columns) >= {"x", "y", "model", "image_id", "label", "masked"}


@pytest.mark.slow
def test_umap_projection(known_run):
    table, features = _fold(known_run)
    result = projections(table, features, ("umap",), scopes=("both",), seed=0)
    assert len(result) == 28 and np.isfinite(result[["x", "y"]].to_numpy()).all()
