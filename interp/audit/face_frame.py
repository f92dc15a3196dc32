"""Maps on a common face frame: every map warped so the eye centres land on the same two points.

Faces sit at different places, sizes and angles in their inputs, so averaging maps pixel by pixel blurs
what the maps say. Here each map is resampled on a grid fixed in the face's own axes
(:class:`interp.regions.face_axes.FaceAxes`: ``u`` across the face from the right to the left eye centre,
``v`` down it, both in inter-ocular distances, origin midway between the eyes) - a similarity warp on the
eye landmarks - so the eyes sit at ``u = -0.5`` and ``u = +0.5`` on ``v = 0`` in every warped map, the
forehead above and the mouth below. Each warped map is its positive part divided by its positive mass in
the frame (where the evidence lies, as shares summing to 1), and the mean over pairs of the masked minus
the non-masked map of each pair is the quantitative figure 6: positive where masking moved evidence to,
negative where it moved it from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage

from interp.regions.face_axes import FaceAxes

GRID = 32
"""Cells per side of the common frame."""
U_RANGE = (-1.6, 1.6)
"""Across the face, in inter-ocular distances (eye centres at -0.5 and +0.5)."""
V_RANGE = (-1.4, 1.8)
"""Down the face, in inter-ocular distances: the forehead above the eyes (v < 0) to the chin (v > 0)."""


def frame_coordinates(grid: int = GRID) -> tuple[np.ndarray, np.ndarray]:
    """``(grid,)`` ``u`` of the columns and ``v`` of the rows of the common frame (cell centres)."""
    step_u = (U_RANGE[1] - U_RANGE[0]) / grid
    step_v = (V_RANGE[1] - V_RANGE[0]) / grid
    return U_RANGE[0] + step_u * (np.arange(grid) + 0.5), V_RANGE[0] + step_v * (np.arange(grid) + 0.5)


def warp(attribution: np.ndarray, axes: FaceAxes, grid: int = GRID) -> np.ndarray:
    """One ``(H, W)`` map resampled on the common frame: ``(grid, grid)`` shares of its positive mass.

    Bilinear sampling at each cell centre; cells outside the input read 0. NaN everywhere when the map
    has no positive mass inside the frame.
    """
    u, v = frame_coordinates(grid)
    uu, vv = np.meshgrid(u, v)
    points = axes.to_image(np.stack([uu.ravel(), vv.ravel()], axis=-1))  # (x, y) in input pixels
    positive = np.clip(np.asarray(attribution, dtype=np.float64), 0, None)
    sampled = ndimage.map_coordinates(positive, [points[:, 1] - 0.5, points[:, 0] - 0.5], order=1, cval=0.0)
    total = sampled.sum()
    if not total > 0:
        return np.full((grid, grid), np.nan)
    return (sampled / total).reshape(grid, grid)


def difference_map(warped: pd.DataFrame, grid: int = GRID) -> pd.DataFrame:
    """Mean NM, M and M - NM map per model from warped maps of pairs.

    Parameters
    ----------
    warped
        One row per warped map: ``model``, ``fold``, ``pair_id``, ``masked``, ``map`` (a ``(grid, grid)``
        array from :func:`warp`).

    Returns
    -------
    pandas.DataFrame
        One row per model and cell: ``model``, ``row``, ``col``, ``u``, ``v``, ``nm``, ``m`` (mean share
        per cell), ``difference`` (mean over pairs of M - NM), ``n_pairs`` (complete pairs with both maps
        defined).
    """
    columns = ["model", "row", "col", "u", "v", "nm", "m", "difference", "n_pairs"]
    u, v = frame_coordinates(grid)
    frames = []
    for model, rows in warped.groupby("model", sort=False):
        sides = {}
        for (fold, pair), members in rows[rows["pair_id"].astype(str) != ""].groupby(["fold", "pair_id"], sort=False):
            by_side = {bool(masked): stack for masked, stack in zip(members["masked"], members["map"])}
            if set(by_side) == {False, True} and not (np.isnan(by_side[False]).any() or np.isnan(by_side[True]).any()):
                sides[(fold, pair)] = (by_side[False], by_side[True])
        if not sides:
            continue
        nm = np.mean([pair[0] for pair in sides.values()], axis=0)
        m = np.mean([pair[1] for pair in sides.values()], axis=0)
        rr, cc = np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")
        frames.append(pd.DataFrame({
            "model": model, "row": rr.ravel(), "col": cc.ravel(), "u": u[cc.ravel()], "v": v[rr.ravel()],
            "nm": nm.ravel(), "m": m.ravel(), "difference": (m - nm).ravel(), "n_pairs": len(sides)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
