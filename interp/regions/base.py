"""The region-metric template: a metric scores attribution maps against a boolean region.

Every metric declares, Quantus-style, what it measures and how to read it: ``name``, the
``region`` it uses (a name in :data:`interp.regions.areas.AREAS`: ``"mask"``, the mask polygon;
``"eyes"``, the eyes-and-brows band), the
``direction`` in which a score is better for the audit's question (does the model look away from
the mask?), and the ``reference`` it comes from. Dashboards and reports read this metadata.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal

import numpy as np

Direction = Literal["higher", "lower", "neutral"]
TIE_TOLERANCE = 1e-6
"""Relative tolerance (of the map's peak) within which two attribution values count as tied."""
MIN_POSITIVE_SHARE = 0.05
"""Minimum evidence: a map whose positive mass is below this share of its absolute mass scores NaN on
every metric (a map all negative but for one tiny positive pixel would otherwise score 1.0 on the
region holding that pixel)."""


class RegionMetric(ABC):
    """Score ``(N, H, W)`` attribution maps against ``(N, H, W)`` boolean regions.

    Every metric reads the positive part of the map (the evidence *for* the target class). Scores
    are NaN where a metric is undefined for an image (empty region, too little positive attribution:
    below :data:`MIN_POSITIVE_SHARE` of the map's absolute mass, e.g. an all-negative map), so that
    aggregation can skip them explicitly.
    """

    name: ClassVar[str]
    region: ClassVar[str]
    direction: ClassVar[Direction]
    reference: ClassVar[str]
    description: ClassVar[str]

    def __call__(self, attributions: np.ndarray, regions: np.ndarray) -> np.ndarray:
        """Validate shapes and return one float score per image.

        Parameters
        ----------
        attributions
            ``(N, H, W)`` (or ``(H, W)``) real attribution maps; positive means evidence for the
            target class.
        regions
            Boolean array of the same shape: ``True`` inside the region.

        Returns
        -------
        numpy.ndarray
            ``(N,)`` float64 scores (a 0-d array for a single map).
        """
        maps = np.asarray(attributions, dtype=np.float64)
        masks = np.asarray(regions, dtype=bool)
        single = maps.ndim == 2
        if single:
            maps, masks = maps[None], masks[None]
        if maps.ndim != 3 or maps.shape != masks.shape:
            raise ValueError(
                f"{self.name}: attributions {np.shape(attributions)} and regions {np.shape(regions)} "
                "must both be (N, H, W) with the same shape; rasterise the region at the map size"
            )
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = np.where(enough_evidence(maps), self.score(maps, masks), np.nan)
        return scores[0] if single else scores

    @abstractmethod
    def score(self, attributions: np.ndarray, regions: np.ndarray) -> np.ndarray:
        """Scores for validated ``(N, H, W)`` float maps and boolean regions."""

    @classmethod
    def describe(cls) -> dict[str, str]:
        """The metric's metadata as a plain dict (for tables, the dashboard and the report)."""
        return {
            "name": cls.name,
            "region": cls.region,
            "direction": cls.direction,
            "reference": cls.reference,
            "description": cls.description,
        }


def positive_mass(attributions: np.ndarray) -> np.ndarray:
    """Positive part of each map, ``max(a, 0)``: the evidence *for* the target class."""
    return np.clip(attributions, 0.0, None)


def positive_share(attributions: np.ndarray) -> np.ndarray:
    """Per ``(N, H, W)`` map: positive mass over absolute mass (NaN for an all-zero map)."""
    maps = np.asarray(attributions, dtype=np.float64)
    absolute = np.abs(maps).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(absolute > 0, positive_mass(maps).sum(axis=(1, 2)) / absolute, np.nan)


def enough_evidence(attributions: np.ndarray) -> np.ndarray:
    """Per map: whether its positive share reaches :data:`MIN_POSITIVE_SHARE` (False for an all-zero map)."""
    share = positive_share(attributions)
    return np.nan_to_num(share, nan=-1.0) >= MIN_POSITIVE_SHARE


def fraction_inside(attributions: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Positive attribution mass inside the region over total positive mass (NaN if none)."""
    positive = positive_mass(attributions)
    total = positive.sum(axis=(1, 2))
    inside = (positive * regions).sum(axis=(1, 2))
    empty = ~regions.any(axis=(1, 2))
    return np.where((total > 0) & ~empty, inside / np.where(total > 0, total, 1.0), np.nan)
