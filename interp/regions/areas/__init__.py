"""Named face regions (the mask, the eyes-and-brows band, ...) that region metrics score against.

:data:`AREAS` maps a region's name to an :class:`~interp.regions.areas.base.Area`; every module of
this package (other than ``base``) adds one, so a new region ("nose", "forehead") is one new file
here. A region metric names the region it uses in its ``region`` attribute.
"""

from __future__ import annotations

from interp.regions.areas.base import Area, Geometry
from trainers.common.registry import Registry

AREAS: Registry[Area] = Registry("region", package=__name__, skip=("base",))
"""Region name -> :class:`Area`; the package's modules are imported on first read."""

__all__ = ["AREAS", "Area", "Geometry"]
