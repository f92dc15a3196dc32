"""Relevance rank accuracy: the share of the K most relevant pixels inside a K-pixel region."""

from __future__ import annotations

import numpy as np

from interp.regions.base import RegionMetric


class RankAccuracy(RegionMetric):
    """Fraction of the top-K pixels (K = region area) that lie inside the mask polygon.

    A map that ranks exactly the mask's pixels highest scores 1; a random ranking scores the
    mask's share of the image. Ties are broken by pixel order (row-major), deterministically.

    References
    ----------
    Arras, Osman and Samek (2022), "CLEVR-XAI: A benchmark dataset for the ground truth
    evaluation of neural network explanations", Information Fusion 81, 14-40.
    """

    name = "rank_accuracy_mask"
    region = "mask"
    direction = "lower"
    reference = "Arras et al. 2022, CLEVR-XAI, Information Fusion 81"
    description = "share of the K highest-attribution pixels inside the K-pixel mask polygon"

    def score(self, attributions: np.ndarray, regions: np.ndarray) -> np.ndarray:
        flat = attributions.reshape(len(attributions), -1)
        inside = regions.reshape(len(regions), -1)
        sizes = inside.sum(axis=1)
        order = np.argsort(-flat, axis=1, kind="stable")
        ranked_inside = np.take_along_axis(inside, order, axis=1)
        hits = np.cumsum(ranked_inside, axis=1)
        top_hits = hits[np.arange(len(flat)), np.maximum(sizes, 1) - 1]
        return np.where(sizes > 0, top_hits / np.maximum(sizes, 1), np.nan)


class EyeRankAccuracy(RankAccuracy):
    """Fraction of the top-K pixels (K = band area) on the eyes-and-brows band."""

    name = "rank_accuracy_eyes"
    region = "eyes"
    direction = "higher"
    description = "share of the K highest-attribution pixels on the K-pixel eyes-and-brows band"
