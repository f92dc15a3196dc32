"""Which audited images have the geometry the region metrics need, and where their mask polygon came from.

A mask polygon is ``exact`` (the outline of a drawn mask: synthetic masks, the demo, or by hand) or
``estimated`` (the lower-face polygon from the image's own landmarks, for real photos); an image
with neither scores NaN on every mask metric, and one without landmarks on every eye metric. The
audit reports both shares (log, ``audit.json``, the summary table) and the region metrics split by
polygon source (``summary_by_polygon``), since an estimated region is only as good as its landmarks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pandas as pd

from trainers.data.manifest import POLYGON_SOURCES

log = logging.getLogger(__name__)

SOURCE_COLUMN = "mask_polygon_source"
LANDMARKS_COLUMN = "has_landmarks"
SOURCES = POLYGON_SOURCES
EXACT, ESTIMATED = SOURCES
NONE = "none"


def geometry_coverage(images: pd.DataFrame) -> dict[str, float | int]:
    """Shares of the audited images (each counted once) by polygon source and with landmarks.

    Returns
    -------
    dict
        ``images`` (distinct images), ``exact``, ``estimated``, ``without_polygon`` and
        ``without_landmarks`` (shares in [0, 1]).
    """
    distinct = images.drop_duplicates("image_id")
    count = len(distinct)
    sources = distinct[SOURCE_COLUMN].value_counts()
    share = (lambda n: float(n) / count) if count else (lambda n: 0.0)
    return {"images": count, EXACT: share(sources.get(EXACT, 0)), ESTIMATED: share(sources.get(ESTIMATED, 0)),
            "without_polygon": share(sources.get(NONE, 0)),
            "without_landmarks": share((~distinct[LANDMARKS_COLUMN].astype(bool)).sum())}


def coverage_warning(coverage: dict[str, float | int]) -> str | None:
    """A warning naming the shares of images without a polygon, with an estimated one, or without
    landmarks; ``None`` when every image has an exact polygon and landmarks."""
    parts = []
    if coverage["without_polygon"]:
        parts.append(f"{100 * coverage['without_polygon']:.1f}% have no mask polygon (their mask metrics are NaN)")
    if coverage["estimated"]:
        parts.append(f"{100 * coverage['estimated']:.1f}% have a mask polygon estimated from landmarks")
    if coverage["without_landmarks"]:
        parts.append(f"{100 * coverage['without_landmarks']:.1f}% have no landmarks (their eye metrics are NaN)")
    if not parts:
        return None
    return (f"of {coverage['images']} audited image(s), " + "; ".join(parts)
            + "; run `python -m trainers data faces` on the manifest to add landmarks and estimated polygons")


def coverage_by_subset(images: pd.DataFrame) -> pd.DataFrame:
    """Per model and subset (NM/M): ``share_estimated``, ``share_without_polygon``,
    ``share_without_landmarks`` of the audited images."""
    table = images.assign(subset=images["masked"].astype(bool).map({True: "M", False: "NM"}),
                          share_estimated=images[SOURCE_COLUMN] == ESTIMATED,
                          share_without_polygon=images[SOURCE_COLUMN] == NONE,
                          share_without_landmarks=~images[LANDMARKS_COLUMN].astype(bool))
    shares = ["share_estimated", "share_without_polygon", "share_without_landmarks"]
    return table.groupby(["model", "subset"], sort=True)[shares].mean().reset_index()


def summary_by_polygon(images: pd.DataFrame, summarise: Callable[[pd.DataFrame], pd.DataFrame]) -> pd.DataFrame:
    """``summarise`` (the audit's per model, subset, class and metric summary) of the images with
    an exact and with an estimated polygon separately, with a ``polygon_source`` column."""
    frames = []
    for source in SOURCES:
        chosen = images[images[SOURCE_COLUMN] == source]
        if len(chosen):
            summary = summarise(chosen)
            summary.insert(0, "polygon_source", source)
            frames.append(summary)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
