"""Colours per arm, per class and per subset, defined once for the dashboard and the PDF report.

Known arms keep the same colour in every study (a reader learns "CL is green" once); arms this table
does not know get the next free colour of a colour-blind-safe qualitative palette, in study order.
"""

from __future__ import annotations

from collections.abc import Iterable

from trainers.data.labels import CLASSES

# Okabe-Ito (colour-blind safe), then Paul Tol's muted scheme for further arms.
_QUALITATIVE: tuple[str, ...] = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499",
)
KNOWN_ARMS: dict[str, str] = {
    "baseline-nm": "#56B4E9", "baseline-m": "#0072B2", "baseline-mix": "#332288", "baseline-pe": "#88CCEE",
    "cl": "#009E73", "cl-ce": "#44AA99", "kd": "#E69F00", "ran": "#CC79A7", "scan": "#D55E00",
}
CLASS_COLOURS: dict[str, str] = dict(zip(CLASSES, (
    "#E69F00", "#882255", "#117733", "#F0E442", "#0072B2", "#D55E00", "#999999")))
SUBSET_COLOURS: dict[str, str] = {"NM": "#4C72B0", "M": "#C44E52", "PE-NM": "#8DA0CB", "PE-M": "#E78AC3"}
CORRECT_COLOURS: dict[bool, str] = {True: "#1A9850", False: "#D73027"}


def arm_colours(arms: Iterable[str]) -> dict[str, str]:
    """Arm -> hex colour: the fixed colour of a known arm, else the next unused palette colour."""
    arms = list(dict.fromkeys(arms))
    taken = {KNOWN_ARMS[arm] for arm in arms if arm in KNOWN_ARMS}
    spare = iter([colour for colour in _QUALITATIVE if colour not in taken] * 3)
    return {arm: KNOWN_ARMS.get(arm) or next(spare) for arm in arms}


def class_colour(name: str) -> str:
    """Colour of an expression class (grey for an unknown label)."""
    return CLASS_COLOURS.get(name, "#7F7F7F")
