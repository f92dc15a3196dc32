"""Relevance rank accuracy: the share of the K most relevant pixels inside a K-pixel region."""

from __future__ import annotations

import numpy as np

from interp.regions.base import RegionMetric, TIE_TOLERANCE, positive_mass


class RankAccuracy(RegionMetric):
    """Fraction of the top-K pixels (K = region area) that lie inside the mask polygon.

    Pixels are ranked by the positive part of the map (the evidence for the target class). A map
    that ranks exactly the mask's pixels highest scores 1. Tied pixels get their expected hit
    rate: when ``r`` of the K places go to ``t`` pixels tied at the K-th value, of which ``t_in``
    lie inside, they contribute ``r * t_in / t`` hits. A uniform map (or a uniformly random
    ranking) therefore scores the mask's share of the image, and the score does not depend on
    pixel order (flipping map and region together changes nothing). A map without positive
    evidence scores NaN.

    References
    ----------
    Arras, Osman and Samek (2022), "CLEVR-XAI: A benchmark dataset for the ground truth
    evaluation of neural network explanations", Information Fusion 81, 14-40.
    """

    name = "rank_accuracy_mask"
    region = "mask"
    direction = "lower"
    reference = "Arras et al. 2022, CLEVR-XAI, Information Fusion 81"
    description = ("share of the K highest positive-attribution pixels inside the K-pixel mask polygon "
                   "(ties at their expected hit rate)")

    def score(self, attributions: np.ndarray, regions: np.ndarray) -> np.ndarray:
        return tied_top_k_share(positive_mass(attributions), regions)


def tied_top_k_share(values: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Expected share of the K highest ``values`` inside ``regions`` (K = region area), ties shared.

    ``values`` are ``(N, H, W)`` non-negative maps; an image whose map is all zero, or whose region
    is empty, scores NaN. Values within :data:`TIE_TOLERANCE` of the peak count as tied.
    """
    flat = values.reshape(len(values), -1)
    inside = regions.reshape(len(regions), -1)
    sizes = inside.sum(axis=1)
    peak = flat.max(axis=1)
    scores = np.full(len(flat), np.nan)
    for i in np.flatnonzero((sizes > 0) & (peak > 0)):
        k = int(sizes[i])
        kth = np.partition(flat[i], flat.shape[1] - k)[flat.shape[1] - k]  # the K-th largest value
        tolerance = TIE_TOLERANCE * peak[i]
        above = flat[i] > kth + tolerance
        tied = np.abs(flat[i] - kth) <= tolerance
        places = k - int(above.sum())
        hits = inside[i][above].sum() + places * inside[i][tied].sum() / tied.sum()
        scores[i] = hits / k
    return scores


class EyeRankAccuracy(RankAccuracy):
    """Fraction of the top-K pixels (K = band area) on the eyes-and-brows band."""

    name = "rank_accuracy_eyes"
    region = "eyes"
    direction = "higher"
    description = ("share of the K highest positive-attribution pixels on the K-pixel eyes-and-brows band "
                   "(ties at their expected hit rate)")
