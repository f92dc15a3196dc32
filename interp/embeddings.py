"""Projections and cluster quality of the validation embeddings (the paper's figure 5, measured).

Each fold has its own trained model, so embedding spaces of different folds are not comparable:
projections are made per fold (by default the first finished fold of each model), and
cluster-quality numbers are computed per fold and then summarised with their fold spread.
Features are L2-normalised first, so distances are comparable between models.

Scopes: ``NM`` (non-masked images), ``M`` (masked) and ``both``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier

log = logging.getLogger(__name__)

SCOPES: tuple[str, ...] = ("NM", "M", "both")
PROJECTION_COLUMNS: tuple[str, ...] = (
    "x", "y", "model", "fold", "method", "scope", "image_id", "subject", "pair_id", "label", "masked",
)
QUALITY_METRICS: tuple[str, ...] = ("silhouette", "knn_accuracy", "pair_distance", "pair_distance_ratio")


def l2_normalise(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.where(norms > 0, norms, 1.0)


def tsne(features: np.ndarray, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """2-d t-SNE (scikit-learn, PCA initialisation); perplexity capped below the sample count."""
    perplexity = min(perplexity, max(1.0, (len(features) - 1) / 3))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(features)


def umap(features: np.ndarray, seed: int = 0, n_neighbors: int = 15) -> np.ndarray:
    """2-d UMAP (umap-learn). The first call in a process compiles for several seconds."""
    with warnings.catch_warnings():  # umap-learn warns on import that its optional TensorFlow part is absent
        warnings.filterwarnings("ignore", message="Tensorflow not installed")
        import umap as umap_learn  # numba compiles on import: keep it out of processes that never project

    n_neighbors = max(2, min(n_neighbors, len(features) - 1))
    reducer = umap_learn.UMAP(n_components=2, n_neighbors=n_neighbors, random_state=seed, n_jobs=1)
    return reducer.fit_transform(features)


PROJECTIONS: dict[str, Callable[..., np.ndarray]] = {"tsne": tsne, "umap": umap}


def scope_mask(table: pd.DataFrame, scope: str) -> np.ndarray:
    """Rows of ``table`` in ``scope`` (NM, M or both)."""
    if scope == "both":
        return np.ones(len(table), dtype=bool)
    return (table["masked"] == (scope == "M")).to_numpy()


def projections(table: pd.DataFrame, features: np.ndarray, methods: tuple[str, ...],
                scopes: tuple[str, ...] = SCOPES, seed: int = 0) -> pd.DataFrame:
    """2-d projections of one (model, fold) for every method and scope.

    Parameters
    ----------
    table
        That fold's predictions rows (with ``model``, ``fold``, ``image_id``, ``label``, ...).
    features
        Embeddings aligned with ``table``.
    """
    features = l2_normalise(features)
    frames = []
    for scope in scopes:
        rows = scope_mask(table, scope)
        if rows.sum() < 5:
            log.info("skipping %s projection of %s fold %s: %d images", scope, table["model"].iat[0],
                     table["fold"].iat[0], rows.sum())
            continue
        for method in methods:
            points = PROJECTIONS[method](features[rows], seed=seed)
            frame = table.loc[rows, ["model", "fold", "image_id", "subject", "pair_id", "label", "masked"]].copy()
            frame["x"], frame["y"] = points[:, 0], points[:, 1]
            frame["method"], frame["scope"] = method, scope
            frames.append(frame[list(PROJECTION_COLUMNS)])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(PROJECTION_COLUMNS))


def knn_accuracy(features: np.ndarray, labels: np.ndarray, subjects: np.ndarray, neighbours: int = 5) -> float:
    """Leave-one-subject-out k-nearest-neighbour accuracy of the class in the embedding.

    NaN with fewer than two subjects. ``neighbours`` is capped by the smallest training split.
    """
    groups = pd.factorize(pd.Series(subjects))[0]
    counts = np.bincount(groups)
    if counts.size < 2:
        return float("nan")
    neighbours = max(1, min(neighbours, len(labels) - int(counts.max())))
    predicted = cross_val_predict(KNeighborsClassifier(n_neighbors=neighbours), features, labels,
                                  groups=groups, cv=LeaveOneGroupOut())
    return float(np.mean(predicted == labels))


def pair_distances(features: np.ndarray, table: pd.DataFrame) -> tuple[float, float]:
    """Mean distance between the NM and M features of a pair, and its ratio to the mean NM-M distance.

    A ratio well below 1 means a masked image lands near its own unmasked partner rather than
    anywhere among the unmasked images. NaN when the scope holds no complete pair.
    """
    table = table.reset_index(drop=True)
    paired = table[table["pair_id"] != ""].reset_index()[["index", "pair_id", "masked"]]
    matched = paired[~paired["masked"]].merge(paired[paired["masked"]], on="pair_id", suffixes=("_nm", "_m"))
    if matched.empty:
        return float("nan"), float("nan")
    left, right = features[matched["index_nm"].to_numpy()], features[matched["index_m"].to_numpy()]
    own = float(np.linalg.norm(left - right, axis=1).mean())
    everyone = float(cdist(features[(~table["masked"]).to_numpy()], features[table["masked"].to_numpy()]).mean())
    return own, own / everyone if everyone > 0 else float("nan")


def cluster_quality(table: pd.DataFrame, features: np.ndarray, neighbours: int = 5) -> dict[str, float]:
    """Silhouette of the classes, kNN accuracy, and pair distances of one scope of one fold."""
    features = l2_normalise(features)
    labels = table["label"].to_numpy()
    classes = len(set(labels))
    silhouette = (float(silhouette_score(features, labels)) if 2 <= classes < len(labels)
                  else float("nan"))
    pair, ratio = pair_distances(features, table)
    return {"silhouette": silhouette, "knn_accuracy": knn_accuracy(features, labels, table["subject"].to_numpy(),
                                                                   neighbours),
            "pair_distance": pair, "pair_distance_ratio": ratio}


def quality_rows(table: pd.DataFrame, features: np.ndarray, scopes: tuple[str, ...] = SCOPES,
                 neighbours: int = 5) -> list[dict]:
    """One row per scope for one (model, fold): ``model``, ``fold``, ``scope``, ``n`` and the metrics."""
    rows = []
    for scope in scopes:
        mask = scope_mask(table, scope)
        if mask.sum() < 2:
            continue
        metrics = cluster_quality(table[mask], features[mask], neighbours)
        rows.append({"model": table["model"].iat[0], "fold": int(table["fold"].iat[0]), "scope": scope,
                     "n": int(mask.sum()), **metrics})
    return rows
