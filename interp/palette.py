"""Colours per arm, per class and per subset, defined once for the dashboard and the PDF report.

An arm's colour is declared where the arm registers (:func:`trainers.methods.register_method`) and recorded
in ``study.json`` (``arms.<arm>.colour``), so an arm keeps its colour in every study (a reader learns "CL
is green" once); an arm without a recorded colour (a study written before arms declared one) gets the next
free colour of a colour-blind-safe qualitative palette, in study order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trainers.data.labels import CLASSES
from trainers.data.views import M, NM, PE_M, PE_NM

# Okabe-Ito (colour-blind safe), then Paul Tol's muted scheme for further arms.
_QUALITATIVE: tuple[str, ...] = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499",
)
CLASS_COLOURS: dict[str, str] = dict(zip(CLASSES, (
    "#E69F00", "#882255", "#117733", "#F0E442", "#0072B2", "#D55E00", "#999999")))
SUBSET_COLOURS: dict[str, str] = {NM: "#4C72B0", M: "#C44E52", PE_NM: "#8DA0CB", PE_M: "#E78AC3"}
CORRECT_COLOURS: dict[bool | None, str] = {True: "#1A9850", False: "#D73027", None: "#8C8C8C"}  # None: no label


def arm_colours(study: Mapping[str, Any]) -> dict[str, str]:
    """Arm -> hex colour for every model of a ``study.json``: the colour recorded for the arm
    (``arms.<arm>.colour``), else the next palette colour no arm of the study has, in study order."""
    arms = list(dict.fromkeys(study.get("models", [])))
    records = study.get("arms") or {}
    declared = {arm: str(colour).upper() for arm in arms if (colour := (records.get(arm) or {}).get("colour"))}
    spare = iter([colour for colour in _QUALITATIVE if colour not in set(declared.values())] * 3)
    return {arm: declared.get(arm) or next(spare) for arm in arms}


def class_colour(name: str) -> str:
    """Colour of an expression class (grey for an unknown label)."""
    return CLASS_COLOURS.get(name, "#7F7F7F")
