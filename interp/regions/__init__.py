"""Region metrics: how attribution relates to the mask polygon and the eyes-and-brows band.

:data:`REGION_METRICS` maps a metric's name to an instance; adding a metric is one file plus one
line here, and the tests iterate the registry. Use :func:`score_regions` to compute them all.
The regions themselves (``mask``, ``eyes``, ...) are the registry :data:`interp.regions.areas.AREAS`.
"""

from __future__ import annotations

import numpy as np

from interp.regions.base import RegionMetric
from interp.regions.eye_region import EyeRegionFraction
from interp.regions.mask_fraction import MaskFraction
from interp.regions.mask_fraction_ratio import MaskFractionRatio
from interp.regions.pointing_game import EyePointingGame, PointingGame
from interp.regions.rank_accuracy import EyeRankAccuracy, RankAccuracy

REGION_METRICS: dict[str, RegionMetric] = {
    metric.name: metric
    for metric in (
        MaskFraction(),
        MaskFractionRatio(),
        EyeRegionFraction(),
        PointingGame(),
        EyePointingGame(),
        RankAccuracy(),
        EyeRankAccuracy(),
    )
}


def score_regions(attributions: np.ndarray, regions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every registered metric on ``(N, H, W)`` maps, given boolean regions by name (``{"mask": ..., "eyes": ...}``).

    Returns
    -------
    dict
        Metric name -> ``(N,)`` scores, in registry order.
    """
    return {name: metric(attributions, regions[metric.region]) for name, metric in REGION_METRICS.items()}


def metric_metadata() -> list[dict[str, str]]:
    """Name, region, direction, reference and description of every registered metric."""
    return [metric.describe() for metric in REGION_METRICS.values()]


__all__ = ["REGION_METRICS", "RegionMetric", "metric_metadata", "score_regions"]
