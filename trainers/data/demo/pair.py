"""Render one pose of one subject: the non-masked image, the masked image and their ground truth.

The two images are the same render except the mask, so a pair differs only where the mask is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from trainers.data.demo import render
from trainers.data.demo.evidence import evidence_map, hide
from trainers.data.demo.expressions import Expression
from trainers.data.demo.identity import SubjectTraits, deform
from trainers.data.demo.masks import clip_to_image, draw_mask, mask_polygon
from trainers.data.demo.mesh import FaceModel


@dataclass
class RenderedPair:
    """Both images of a pose and what is true about them.

    Attributes
    ----------
    unmasked, masked
        RGB images of side ``size``.
    points
        ``(478, 3)`` projected mesh (stored-image pixels; z depth).
    polygon
        ``(n, 2)`` mask region in stored-image pixels (the same for both images).
    evidence
        ``float16`` expression-evidence map of the unmasked image (zero for a neutral expression).
    masked_evidence
        The same map with what the mask hides set to zero: the evidence of the masked image.
    """

    unmasked: Image.Image
    masked: Image.Image
    points: np.ndarray
    polygon: np.ndarray
    evidence: np.ndarray
    masked_evidence: np.ndarray


def face_height(model: FaceModel) -> float:
    """Forehead-to-chin height of the neutral mesh (used to frame every face the same way)."""
    return float(model.neutral[152, 1] - model.neutral[10, 1])


def render_pair(model: FaceModel, traits: SubjectTraits, expression: Expression, pose: render.Pose,
                size: int, supersample: int) -> RenderedPair:
    """Draw the pose ``supersample`` times larger, add the mask to a copy, and box-filter both down."""
    big = size * supersample
    height = face_height(model)
    expressive = deform(model.vertices(expression.vector(model.au_names)), model.neutral, traits.shape)
    points = render.project(expressive, pose, big, height)
    image = render.background(big, traits)
    draw = ImageDraw.Draw(image)
    render.draw_back_hair(draw, points, traits)
    render.draw_face(draw, points, model, traits, pose.light)
    render.draw_features(image, draw, points, traits, supersample)
    masked = image.copy()
    polygon = clip_to_image(mask_polygon(points), big)
    draw_mask(masked, polygon, traits, supersample)
    if traits.glasses:
        for target in (image, masked):
            render.draw_glasses(ImageDraw.Draw(target), points, traits, supersample)
    posed_aus = expression.vector(model.au_names, include_nuisance=False)
    nuisance = expression.vector(model.au_names) - posed_aus
    base = deform(model.vertices(nuisance), model.neutral, traits.shape)
    evidence = evidence_map(render.project(expressive, pose, size, height), render.project(base, pose, size, height),
                            model.triangles, size)
    polygon = polygon / supersample
    return RenderedPair(
        unmasked=image.reduce(supersample) if supersample > 1 else image,
        masked=masked.reduce(supersample) if supersample > 1 else masked,
        points=points / [supersample, supersample, supersample],
        polygon=polygon,
        evidence=evidence,
        masked_evidence=hide(evidence, polygon, size),
    )
