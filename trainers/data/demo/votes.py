"""Simulated label verification: seven volunteers look at every image (the paper's section 2.2).

Each volunteer perceives a class from what the image shows: the evidence for a class is how
strongly the image's visible action units point along the class prototype, the evidence for
neutral a fixed threshold, plus the volunteer's own noise. A volunteer who perceives another
class than the posed one flags the image, usually proposing that class, sometimes only ``none``.
On a masked image the mouth's action units are hidden, and volunteers give it the benefit of the
doubt more often (in MSD-E masked images were removed less often than non-masked ones).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trainers.data.demo.expressions import PROTOTYPES, Expression
from trainers.data.labels import CLASSES

VOLUNTEERS: tuple[str, ...] = tuple(f"v{i}" for i in range(1, 8))
VOTE_COLUMNS: tuple[str, ...] = ("image_id", "volunteer", "proposed_label")
HIDDEN_BY_MASK: frozenset[str] = frozenset(
    {"AU09", "AU10", "AU11", "AU12", "AU14", "AU15", "AU17", "AU20", "AU23", "AU24", "AU25", "AU26", "AU28"}
)


@dataclass(frozen=True)
class VoteParams:
    """Knobs of the volunteers.

    Attributes
    ----------
    sharpness
        How decisively evidence turns into a perception (higher: fewer disagreements).
    neutral_threshold
        Evidence along a prototype below which an image looks neutral.
    masked_threshold
        Factor on ``neutral_threshold`` for masked images (volunteers expect less visible movement).
    masked_doubt
        Probability that a volunteer who perceives another class on a masked image still does not flag it.
    propose_rate
        Probability that a flag proposes the perceived class rather than ``none``.
    """

    sharpness: float = 16.0
    neutral_threshold: float = 1.1
    masked_threshold: float = 0.6
    masked_doubt: float = 0.85
    propose_rate: float = 0.8


def class_evidence(expression: Expression, masked: bool, au_names: tuple[str, ...]) -> np.ndarray:
    """Evidence for each class in :data:`CLASSES` order from the image's visible action units."""
    visible = np.array([not (masked and name in HIDDEN_BY_MASK) for name in au_names], dtype=float)
    values = expression.vector(au_names) * visible
    evidence = np.zeros(len(CLASSES))
    for index, name in enumerate(CLASSES):
        prototype = np.array([PROTOTYPES[name].get(au, 0.0) for au in au_names]) * visible
        norm = np.linalg.norm(prototype)
        if name != "neutral" and norm > 0:
            evidence[index] = max(float(values @ prototype) / norm, 0.0) ** 2
    return evidence


def simulate_votes(image_id: str, expression: Expression, masked: bool, au_names: tuple[str, ...],
                   rng: np.random.Generator, params: VoteParams = VoteParams()) -> list[dict[str, str]]:
    """One row per volunteer: ``image_id, volunteer, proposed_label`` (blank agrees with the label)."""
    evidence = class_evidence(expression, masked, au_names)
    threshold = params.neutral_threshold * (params.masked_threshold if masked else 1.0)
    evidence[CLASSES.index("neutral")] = threshold ** 2
    rows = []
    for volunteer in VOLUNTEERS:
        noisy = params.sharpness * evidence + rng.gumbel(size=len(CLASSES))
        perceived = CLASSES[int(np.argmax(noisy))]
        flag = perceived != expression.label and not (masked and rng.uniform() < params.masked_doubt)
        proposal = ""
        if flag:
            proposal = perceived if rng.uniform() < params.propose_rate else "none"
        rows.append({"image_id": image_id, "volunteer": volunteer, "proposed_label": proposal})
    return rows
