"""What a region is: a named polygon built from one image's geometry in the model's input frame."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from trainers.data.landmarks import LandmarkLayout


@dataclass(frozen=True)
class Geometry:
    """The geometry of one image, already mapped into the model's input frame.

    Attributes
    ----------
    mask_polygon
        ``(n, 2)`` polygon of the mask, or ``None``.
    landmarks
        ``(m, 2)`` landmarks, or ``None``.
    layout
        The landmarks' named layout (``None`` without landmarks).
    """

    mask_polygon: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    layout: LandmarkLayout | None = None


class Area(ABC):
    """One named face region.

    Subclasses set ``name`` and ``description`` and build the polygon; a module of
    :mod:`interp.regions.areas` registers an instance with ``AREAS.add``.
    """

    name: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def polygon(self, geometry: Geometry) -> np.ndarray | None:
        """``(k, 2)`` polygon in the input frame, or ``None`` when the image lacks what it needs.

        Raises
        ------
        DataError
            When the landmarks' layout lacks the groups the region is made of.
        """
