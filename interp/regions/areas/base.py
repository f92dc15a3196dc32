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
    lower_landmarks
        Landmarks (same layout) the lower-face regions (``mouth``, ``lower_face``) are drawn from, where
        they differ from ``landmarks``: on a masked photo, the unmasked partner's landmarks moved onto this
        face by a similarity transform fitted on the eye landmarks (:mod:`interp.audit.inputs`).
    """

    mask_polygon: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    layout: LandmarkLayout | None = None
    lower_landmarks: np.ndarray | None = None

    @property
    def lower(self) -> np.ndarray | None:
        """The landmarks of the lower face: :attr:`lower_landmarks` where given, else :attr:`landmarks`."""
        return self.landmarks if self.lower_landmarks is None else self.lower_landmarks


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
