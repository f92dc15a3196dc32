"""On-face shares and the attention-shift index of one map.

Shares are of the map's positive mass *on the face* (:data:`FACE`: the face oval with the forehead
band, whose top the oval's landmarks may miss), so background and hair no longer dilute them. The
upper face is the eyes-and-brows band with the forehead (:data:`UPPER`), the lower face the region a
mask covers (:data:`LOWER`). On a coarse map (Grad-CAM of a 7x7 layer) a cell that both the upper
and the lower face touch holds evidence of both; such cells - a one-cell band where the two meet -
are left out of both (:func:`coarse_band`). The shift index of an image is

    U = log(share_upper / area_upper) - log(share_lower / area_lower),

with ``area_*`` the region's share of the face (what a uniform map scores), so a uniform map has
U = 0 and a map whose evidence moves from the lower to the upper face has a larger U. Shares are
smoothed with :data:`SMOOTHING` of a uniform map before the log, so an empty region gives a large
finite index rather than infinity. A map whose positive mass is below
:data:`interp.regions.base.MIN_POSITIVE_SHARE` of its absolute mass has no index (NaN) and is
flagged ``low_evidence``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from interp.regions.base import MIN_POSITIVE_SHARE, positive_mass, positive_share

FACE = ("face", "forehead")
UPPER = ("eyes", "forehead")
LOWER = ("lower_face",)
MOUTH = ("mouth",)
SMOOTHING = 0.01
"""Share of a uniform map mixed into the area-normalised shares before the log."""
SHARES: dict[str, tuple[str, ...]] = {"eyes": ("eyes",), "forehead": ("forehead",), "upper": UPPER,
                                      "lower": LOWER, "mouth": MOUTH}
"""Column suffix -> regions united: ``share_<name>`` and ``area_<name>`` of :func:`shift_shares`."""
REGIONS: tuple[str, ...] = tuple(dict.fromkeys(FACE + UPPER + LOWER + MOUTH))
"""Every region the shift index needs."""


def union(regions: dict[str, np.ndarray], names: tuple[str, ...]) -> np.ndarray:
    """The union of the named ``(N, H, W)`` boolean regions."""
    return np.logical_or.reduce([np.asarray(regions[name], dtype=bool) for name in names])


def coarse_band(upper: np.ndarray, lower: np.ndarray, grid: tuple[int, int] | None) -> np.ndarray:
    """Pixels of the map's native cells that both ``upper`` and ``lower`` touch, ``(N, H, W)`` booleans.

    Parameters
    ----------
    upper, lower
        ``(N, H, W)`` regions at the map's (upsampled) size.
    grid
        ``(rows, columns)`` of the map's native grid (Grad-CAM: the target layer's map); ``None`` or a
        grid as fine as the map leaves nothing out.
    """
    upper, lower = np.asarray(upper, dtype=bool), np.asarray(lower, dtype=bool)
    count, height, width = upper.shape
    if grid is None or (grid[0] >= height and grid[1] >= width):
        return np.zeros_like(upper)
    rows = np.arange(height) * grid[0] // height
    cols = np.arange(width) * grid[1] // width
    index = (np.arange(count)[:, None, None], rows[None, :, None], cols[None, None, :])
    touched_upper = np.zeros((count, *grid), dtype=bool)
    touched_lower = np.zeros((count, *grid), dtype=bool)
    np.logical_or.at(touched_upper, index, upper)
    np.logical_or.at(touched_lower, index, lower)
    return (touched_upper & touched_lower)[index]


def shift_shares(maps: np.ndarray, regions: dict[str, np.ndarray], grid: tuple[int, int] | None = None) -> pd.DataFrame:
    """Per map: positive share, on-face shares and areas, and the shift index.

    Parameters
    ----------
    maps
        ``(N, H, W)`` signed attribution maps.
    regions
        ``(N, H, W)`` booleans of every region of :data:`REGIONS` at the maps' size.
    grid
        The maps' native grid (see :func:`coarse_band`).

    Returns
    -------
    pandas.DataFrame
        One row per map: ``positive_share``, ``low_evidence``, ``share_<name>`` and ``area_<name>`` for
        every name of :data:`SHARES`, and ``shift_index`` (NaN with too little evidence, no positive mass
        on the face, or an empty upper or lower region).
    """
    maps = np.asarray(maps, dtype=np.float64)
    positive = positive_mass(maps)
    face = union(regions, FACE)
    band = coarse_band(union(regions, UPPER) & face, union(regions, LOWER) & face, grid)
    keep = face & ~band
    face_mass, face_area = (positive * face).sum(axis=(1, 2)), face.sum(axis=(1, 2))
    share = positive_share(maps)
    low = ~(np.nan_to_num(share, nan=-1.0) >= MIN_POSITIVE_SHARE)
    frame = pd.DataFrame({"positive_share": share, "low_evidence": low})
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, members in SHARES.items():
            inside = union(regions, members) & keep
            frame[f"share_{name}"] = np.where(face_mass > 0, (positive * inside).sum(axis=(1, 2)) / face_mass, np.nan)
            frame[f"area_{name}"] = np.where(face_area > 0, inside.sum(axis=(1, 2)) / face_area, np.nan)
        upper = np.log(frame["share_upper"] / frame["area_upper"] + SMOOTHING)
        lower = np.log(frame["share_lower"] / frame["area_lower"] + SMOOTHING)
    valid = ~low & (face_mass > 0) & (frame["area_upper"] > 0).to_numpy() & (frame["area_lower"] > 0).to_numpy()
    frame["shift_index"] = np.where(valid, upper - lower, np.nan)
    for name in SHARES:
        frame.loc[low, f"share_{name}"] = np.nan
    return frame
