"""The study's hypotheses, declared once: which comparison belongs to which family, and how it is adjusted.

Every hypothesis (a comparison of two arms on one view, or one arm's NM against its M accuracy)
belongs to exactly one family; a family has a kind (:data:`FAMILY_KINDS`) that fixes its adjustment:

==============  ================================================================================  =====
kind            families (only where their arms are in the study)                                 adj.
==============  ================================================================================  =====
confirmatory    ``confirmatory-PE-M``: the paper's methods (role ``ours``: CL, KD) against         Holm
                ``baseline-pe`` on PE-M - the claim the study was run for
table           ``table3-NM`` / ``table4-M``: every arm except ablations against the               Holm
                view-matched baseline (the arm that is the baseline for the view: ``baseline-nm``
                for NM, ``baseline-m`` for M; the paper's Tables 3-4); ``table5-PE-NM`` /
                ``table5-PE-M``: ours and reference arms against ``baseline-pe`` (Table 5, the
                confirmatory comparisons left out); ``noninferiority-PE-NM``: does each of ours
                keep ``baseline-pe``'s non-masked accuracy within the margin (one-sided)
mechanism       ``mechanism-PE-M``: each arm against its ablation (``cl`` vs ``cl-ce``, ``kd`` vs    Holm
                ``kd-ce``): does the method's own term add anything over its batching alone?
exploratory     ``exploratory-PE-NM`` (the ablations on PE-NM), ``NM-vs-M`` (each arm's NM          BH
                against its M accuracy), Friedman's omnibus test and its post-hoc pairs
==============  ================================================================================  =====

What an arm is comes from the study (``study.json`` ``arms.<arm>``: ``role``, ``ablates``,
``baseline_for``, the per-epoch budget), written by the trainer when the arm registered itself;
a study written before that record gets the same description from its arm names
(:func:`describe_arms`). ``interp`` never imports the trainers' method registry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from interp.tables import FULL_VIEWS, PE_VIEWS
from trainers.common.errors import DataError

FAMILY_KINDS: dict[str, str] = {
    "confirmatory": "the claim the study was run for (the paper's methods against baseline-pe on PE-M); Holm",
    "table": "a comparison of the paper's Tables 3-5 against the view-matched baseline, or non-inferiority; Holm",
    "mechanism": "an arm against its ablation (the method's own term switched off); Holm",
    "exploratory": "everything else (NM vs M within an arm, ablations on PE-NM, Friedman post-hoc); BH",
}
KIND_ADJUSTMENT: dict[str, str] = {"confirmatory": "holm", "table": "holm", "mechanism": "holm",
                                   "exploratory": "bh"}
ARM_ROLES: tuple[str, ...] = ("baseline", "ours", "reference", "ablation")
PE_BASELINE = "baseline-pe"
FALLBACK_BASELINES: tuple[str, ...] = ("baseline-mix", "baseline-nm")
"""Baselines of Tables 3-4 when no arm of the study is the baseline for the view (first present wins)."""
WITHIN = "NM-M"
CONFIRMATORY_VIEW = "PE-M"
NONINFERIORITY_VIEW = "PE-NM"
NONINFERIORITY_TEST = "noninferiority"
BUDGET_TOLERANCE = 0.01
"""Relative difference of steps or images per epoch above which a comparison's budgets differ."""
_NAME_BASELINE_FOR: dict[str, tuple[str, ...]] = {"baseline-nm": ("NM",), "baseline-m": ("M",),
                                                  "baseline-pe": PE_VIEWS}
_NAME_ROLES: dict[str, str] = {"cl": "ours", "kd": "ours", "ran": "reference", "scan": "reference"}


@dataclass(frozen=True)
class ArmInfo:
    """What the statistics need to know about one arm of the study.

    Attributes
    ----------
    name
        The arm (model) name.
    role
        One of :data:`ARM_ROLES`.
    ablates
        The arm this one is an ablation of (``cl`` for ``cl-ce``); empty otherwise.
    baseline_for
        Evaluation views this arm is the baseline for (``("NM",)`` for ``baseline-nm``).
    steps_per_epoch, images_per_epoch
        The training budget recorded by the trainer; NaN when the study does not record it.
    trains_on
        The arm's training subset (``nm``, ``m``, ``mix``, ``pe``); empty when not recorded.
    """

    name: str
    role: str
    ablates: str = ""
    baseline_for: tuple[str, ...] = ()
    steps_per_epoch: float = math.nan
    images_per_epoch: float = math.nan
    trains_on: str = ""


def _from_name(name: str) -> ArmInfo:
    """An arm's description from its name alone (studies written before arms described themselves)."""
    if name.startswith("baseline-"):
        return ArmInfo(name, "baseline", baseline_for=_NAME_BASELINE_FOR.get(name, ()))
    if name.endswith("-ce") and name.removesuffix("-ce") in _NAME_ROLES:
        return ArmInfo(name, "ablation", ablates=name.removesuffix("-ce"))
    return ArmInfo(name, _NAME_ROLES.get(name, "reference"))


def _number(record: Mapping, *keys: str) -> float:
    """The first of ``keys`` in ``record`` (or its ``budget`` sub-record) as a float; NaN when absent."""
    for source in (record, record.get("budget") or {}):
        for key in keys:
            if source.get(key) is not None:
                return float(source[key])
    return math.nan


def describe_arms(study: Mapping, models: list[str] | None = None) -> dict[str, ArmInfo]:
    """Arm name -> :class:`ArmInfo` for the arms of ``study.json`` (or ``models``), in study order.

    Reads ``arms.<arm>.role``, ``ablates``, ``baseline_for``, ``trains_on`` and the budget
    (``steps_per_epoch``, ``images_per_epoch``, at the arm's top level or under ``budget``); an arm without a ``role``
    is described from its name (``baseline-*`` baselines, ``<arm>-ce`` the ablation of ``<arm>``).

    Raises
    ------
    DataError
        When a recorded role is not one of :data:`ARM_ROLES`.
    """
    records = study.get("arms") or {}
    names = list(models if models is not None else study.get("models", []))
    arms = {}
    for name in names:
        record = records.get(name) or {}
        fallback = _from_name(name)
        role = record.get("role") or fallback.role
        if role not in ARM_ROLES:
            raise DataError(f"study.json arms.{name}.role is {role!r}; expected one of {', '.join(ARM_ROLES)} "
                            "(retrain the arm or correct study.json)")
        baseline_for = record.get("baseline_for")
        arms[name] = ArmInfo(
            name, role, ablates=str(record.get("ablates") or (fallback.ablates if "role" not in record else "")),
            baseline_for=tuple(baseline_for) if baseline_for is not None else fallback.baseline_for,
            steps_per_epoch=_number(record, "steps_per_epoch"), images_per_epoch=_number(record, "images_per_epoch"),
            trains_on=str(record.get("trains_on") or ""))
    return arms


@dataclass(frozen=True)
class Comparison:
    """``model_a`` against ``model_b`` on ``subset`` (a view), or NM against M within one model
    (``subset`` :data:`WITHIN`, ``model_a == model_b``). Effects are ``a - b``."""

    model_a: str
    model_b: str
    subset: str

    @property
    def label(self) -> str:
        if self.subset == WITHIN:
            return f"{self.model_a}: NM vs M"
        return f"{self.model_a} vs {self.model_b}"


@dataclass(frozen=True)
class Family:
    """Comparisons adjusted together: their ``kind`` (:data:`FAMILY_KINDS`) and the tests to run
    (every default pairwise test if empty)."""

    name: str
    comparisons: tuple[Comparison, ...]
    kind: str = "exploratory"
    tests: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in FAMILY_KINDS:
            raise ValueError(f"family {self.name!r}: kind {self.kind!r} is not one of {', '.join(FAMILY_KINDS)}")

    @property
    def adjustment(self) -> str:
        """The family's multiplicity adjustment (``holm`` or ``bh``), fixed by its kind."""
        return KIND_ADJUSTMENT[self.kind]


def view_baseline(arms: Mapping[str, ArmInfo], view: str, override: str = "") -> str | None:
    """The baseline of Tables 3-4 for ``view``: ``override`` (checked) when given, else the arm that is
    the baseline for the view, else the first of :data:`FALLBACK_BASELINES` in the study, else None."""
    if override:
        if override not in arms:
            raise DataError(f"baseline {override!r} is not a model of the run ({', '.join(arms)}); "
                            "fix --set stats.baseline")
        return override
    matched = [name for name, arm in arms.items() if view in arm.baseline_for]
    if matched:
        return matched[0]
    return next((name for name in FALLBACK_BASELINES if name in arms), None)


def declared_families(arms: Mapping[str, ArmInfo], baseline: str = "",
                      noninferiority: bool = True) -> list[Family]:
    """The study's families (the module docstring's table), only those with a comparison.

    Parameters
    ----------
    arms
        The study's arms (:func:`describe_arms`), in display order.
    baseline
        Override of the Tables 3-4 baseline (``--set stats.baseline``); empty: the view-matched one.
    noninferiority
        Include the non-inferiority family.
    """
    names = list(arms)
    ours = [n for n in names if arms[n].role == "ours"]
    methods = [n for n in names if arms[n].role in ("ours", "reference") and n != PE_BASELINE]
    ablations = [(arms[n].ablates, n) for n in names if arms[n].role == "ablation" and arms[n].ablates in arms]
    families = []
    for number, view in zip((3, 4), FULL_VIEWS):
        chosen = view_baseline(arms, view, baseline)
        if chosen is not None:
            others = [n for n in names if n != chosen and arms[n].role != "ablation"]
            families.append(Family(f"table{number}-{view}", tuple(Comparison(n, chosen, view) for n in others),
                                   "table"))
    if PE_BASELINE in arms:
        families.append(Family(f"confirmatory-{CONFIRMATORY_VIEW}",
                               tuple(Comparison(n, PE_BASELINE, CONFIRMATORY_VIEW) for n in ours), "confirmatory"))
        for view in PE_VIEWS:
            table5 = [n for n in methods if not (view == CONFIRMATORY_VIEW and n in ours)]
            families.append(Family(f"table5-{view}", tuple(Comparison(n, PE_BASELINE, view) for n in table5),
                                   "table"))
        if noninferiority:
            families.append(Family(f"noninferiority-{NONINFERIORITY_VIEW}",
                                   tuple(Comparison(n, PE_BASELINE, NONINFERIORITY_VIEW) for n in ours), "table",
                                   (NONINFERIORITY_TEST,)))
    families.append(Family(f"mechanism-{CONFIRMATORY_VIEW}",
                           tuple(Comparison(arm, ablation, CONFIRMATORY_VIEW) for arm, ablation in ablations),
                           "mechanism"))
    families.append(Family("exploratory-PE-NM", tuple(Comparison(arm, ablation, "PE-NM")
                                                      for arm, ablation in ablations), "exploratory"))
    families.append(Family("NM-vs-M", tuple(Comparison(n, n, WITHIN) for n in names), "exploratory"))
    return [family for family in families if family.comparisons]


def hypothesis(family: Family, comparison: Comparison) -> tuple[str, str, str, str]:
    """The hypothesis a comparison of a family tests: ``(arm, arm, view, claim)``. The claim is
    ``noninferiority`` (of ``model_a`` against ``model_b``) for the non-inferiority family and a two-sided
    ``difference`` otherwise, whose two arms are unordered (``a`` vs ``b`` is ``b`` vs ``a``)."""
    if family.tests == (NONINFERIORITY_TEST,):
        return comparison.model_a, comparison.model_b, comparison.subset, NONINFERIORITY_TEST
    first, second = sorted((comparison.model_a, comparison.model_b))
    return first, second, comparison.subset, "difference"


def without_declared(family: Family, declared: list[Family]) -> Family:
    """``family`` without the comparisons whose hypothesis is already in one of ``declared`` (Friedman's
    post-hoc pairs leave the pairs a declared family tests to that family)."""
    taken = {hypothesis(other, comparison) for other in declared for comparison in other.comparisons}
    kept = tuple(c for c in family.comparisons if hypothesis(family, c) not in taken)
    return Family(family.name, kept, family.kind, family.tests)


def check_unique(families: list[Family]) -> None:
    """Raise when one hypothesis (:func:`hypothesis`) appears in two families, or twice in one."""
    seen: dict[tuple[str, str, str, str], str] = {}
    for family in families:
        for comparison in family.comparisons:
            key = hypothesis(family, comparison)
            if key in seen:
                raise DataError(f"hypothesis {key} is in family {seen[key]!r} and in {family.name!r}; "
                                "each hypothesis belongs to exactly one family")
            seen[key] = family.name


def budget_note(arms: Mapping[str, ArmInfo], comparison: Comparison,
                tolerance: float = BUDGET_TOLERANCE) -> tuple[bool, str]:
    """Whether the two arms of ``comparison`` trained on different budgets, and why in words.

    Returns ``(differs, text)``: ``differs`` is True when the steps or the images per epoch differ by
    more than ``tolerance`` (relative to the larger); ``text`` is ``equal``, ``same arm``, ``not
    recorded`` or the differing numbers (``steps/epoch 40 vs 20``), preceded by the training subsets when
    they differ (``trains on nm vs pe``: budgets then differ by design).
    """
    if comparison.model_a == comparison.model_b:
        return False, "same arm"
    a, b = arms.get(comparison.model_a), arms.get(comparison.model_b)
    if a is None or b is None:
        return False, "not recorded"
    parts, recorded = [], False
    for label, left, right in (("steps/epoch", a.steps_per_epoch, b.steps_per_epoch),
                               ("images/epoch", a.images_per_epoch, b.images_per_epoch)):
        if math.isnan(left) or math.isnan(right):
            continue
        recorded = True
        if abs(left - right) > tolerance * max(abs(left), abs(right)):
            parts.append(f"{label} {left:g} vs {right:g}")
    if not recorded:
        return False, "not recorded"
    if parts and a.trains_on and b.trains_on and a.trains_on != b.trains_on:
        parts.insert(0, f"trains on {a.trains_on} vs {b.trains_on}")
    return bool(parts), "; ".join(parts) or "equal"
