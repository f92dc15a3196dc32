"""EMFACS action-unit prototypes of the seven classes, blends, intensities and nuisance movement."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trainers.data.demo.identity import SubjectTraits

PROTOTYPES: dict[str, dict[str, float]] = {
    "surprise": {"AU01": 1.3, "AU02": 1.3, "AU05": 1.2, "AU25": 0.8, "AU26": 1.3},
    "fear": {"AU01": 1.3, "AU02": 1.0, "AU04": 0.5, "AU05": 1.2, "AU07": 0.3, "AU20": 1.5, "AU25": 0.8, "AU26": 0.5},
    "disgust": {"AU04": 1.0, "AU07": 0.6, "AU09": 1.3, "AU10": 1.5, "AU15": 0.6, "AU17": 0.4},
    "happy": {"AU06": 1.8, "AU12": 1.7, "AU25": 0.6},
    "sad": {"AU01": 1.7, "AU04": 0.6, "AU15": 1.4, "AU17": 0.6, "AU43": 0.3},
    "angry": {"AU04": 1.8, "AU05": 0.6, "AU07": 1.2, "AU17": 0.5, "AU23": 1.3, "AU24": 1.0},
    "neutral": {},
}
"""Class -> AU weights (EMFACS prototypes; 1.0 is a clear expression of the mesh model)."""

BLEND_PARTNERS: dict[str, tuple[str, ...]] = {
    "surprise": ("fear", "happy"),
    "fear": ("surprise", "sad"),
    "disgust": ("angry",),
    "angry": ("disgust",),
    "sad": ("fear",),
    "happy": ("surprise",),
    "neutral": (),
}
"""Which classes an expression of a class is plausibly mixed with (fearful surprise, angry disgust...)."""

MAX_AU = 2.0
"""Largest AU value: beyond it the linear mesh model distorts the face."""

NUISANCE_AUS: tuple[str, ...] = ("AU01", "AU02", "AU04", "AU06", "AU07", "AU10", "AU14", "AU17", "AU25", "AU43")
"""Small movements any face makes (also a neutral one); they are not expression evidence."""


@dataclass(frozen=True)
class ExpressionParams:
    """Knobs of the expression sampler (the calibration of the demo's difficulty).

    Attributes
    ----------
    intensity_spread
        Range of the per-image intensity multiplier (applied on top of the subject's expressiveness).
    blend_rate
        Probability that an expressive image is mixed with a partner class.
    blend_weight
        Range of the partner's weight in a blend.
    nuisance_rate
        Probability that each nuisance AU moves in an image.
    nuisance_scale
        Largest weight of a nuisance movement.
    """

    intensity_spread: tuple[float, float] = (0.55, 1.15)
    blend_rate: float = 0.3
    blend_weight: tuple[float, float] = (0.2, 0.55)
    nuisance_rate: float = 0.3
    nuisance_scale: float = 0.35


@dataclass(frozen=True)
class Expression:
    """One image's expression.

    Attributes
    ----------
    label
        The class the subject was asked to pose.
    intensity
        Overall intensity (subject expressiveness x image jitter).
    blend, blend_weight
        Partner class ("" for none) and its weight.
    expression_aus, nuisance_aus
        AU name -> value; the expression's AUs define the evidence map, the nuisance AUs do not.
    """

    label: str
    intensity: float
    blend: str
    blend_weight: float
    expression_aus: dict[str, float]
    nuisance_aus: dict[str, float]

    def vector(self, au_names: tuple[str, ...], include_nuisance: bool = True) -> np.ndarray:
        """AU values in model order."""
        values = np.zeros(len(au_names))
        sources = (self.expression_aus, self.nuisance_aus) if include_nuisance else (self.expression_aus,)
        for source in sources:
            for name, value in source.items():
                values[au_names.index(name)] += value
        return values


def sample_expression(label: str, traits: SubjectTraits, rng: np.random.Generator,
                      params: ExpressionParams = ExpressionParams()) -> Expression:
    """Draw the expression of one image of ``label`` posed by a subject with ``traits``."""
    nuisance = {au: round(float(rng.uniform(0.05, params.nuisance_scale)), 4)
                for au in NUISANCE_AUS if rng.uniform() < params.nuisance_rate}
    if label == "neutral":
        return Expression(label, 0.0, "", 0.0, {}, nuisance)
    weights = dict(PROTOTYPES[label])
    for au, change in traits.style[label].items():
        weights[au] = max(0.0, weights.get(au, 0.0) + change)
    blend, blend_weight = "", 0.0
    if rng.uniform() < params.blend_rate:
        blend = str(rng.choice(BLEND_PARTNERS[label]))
        blend_weight = float(rng.uniform(*params.blend_weight))
        weights = {au: w * (1.0 - blend_weight) for au, w in weights.items()}
        for au, w in PROTOTYPES[blend].items():
            weights[au] = weights.get(au, 0.0) + w * blend_weight
    intensity = traits.expressiveness * float(rng.uniform(*params.intensity_spread))
    jitter = rng.uniform(0.8, 1.2, len(weights))
    aus = {au: round(float(min(w * intensity * j, MAX_AU)), 4) for (au, w), j in zip(sorted(weights.items()), jitter) if w > 0}
    return Expression(label, round(intensity, 4), blend, round(blend_weight, 4), aus, nuisance)
