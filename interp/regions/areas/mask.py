"""Region ``mask``: the manifest's mask polygon as it is."""

from __future__ import annotations

import numpy as np

from interp.regions.areas import AREAS
from interp.regions.areas.base import Area, Geometry


class MaskArea(Area):
    name = "mask"
    description = "the face mask: the manifest's mask_polygon"

    def polygon(self, geometry: Geometry) -> np.ndarray | None:
        return geometry.mask_polygon


AREAS.add(MaskArea.name, MaskArea())
