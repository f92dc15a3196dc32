"""Section ``limitations``: what the reader should discount, generated from the study itself - few folds,
random initialisation, families that cannot reach significance, demo data, coarse Grad-CAM maps at small
input sizes, analysis warnings and parts of this report that could not be shown."""

from __future__ import annotations

from collections.abc import Callable

from reportlab.platypus import Flowable, ListFlowable, ListItem

from interp.report.sections import register
from interp.report.sections.base import Context, Section
from interp.results import ResultMissing, Results
from interp.tables import PE_VIEWS
from reports.flowables import paragraph, text

FEW_FOLDS = 5
# Below this input size a ResNet's last block is under 4x4 cells: Grad-CAM maps are coarse.
SMALL_INPUT = 112


def _few_folds(results: Results) -> list[str]:
    k = int(results.study.get("k") or 0)
    folds = len(results.study.get("folds") or [])
    if folds >= FEW_FOLDS:
        return []
    return [f"<b>Few folds.</b> Only {folds} of k = {k} folds were trained: means over folds rest on {folds} "
            "numbers, t-intervals are wide, and the fold tests give no p-value below 3 folds. Read effects and "
            "intervals, not significance."]


def _random_init(results: Results) -> list[str]:
    arms = results.study.get("arms", {})
    random = [arm for arm, spec in arms.items() if str(spec.get("init") or spec.get("weights") or "random") == "random"]
    if arms and not random or not arms and results.config().get("weights"):
        return []
    which = f"arms {', '.join(random)}" if arms and len(random) < len(arms) else "all arms"
    return [f"<b>Random initialisation.</b> {text(which).capitalize()} were trained from scratch (no pretrained "
            "weights), unlike the paper's ImageNet-initialised models; absolute accuracies are not comparable "
            "with it."]


def unreachable_families(results: Results) -> dict[str, list[str]]:
    """Table name -> ``family (test)`` entries that cannot reach significance (``reachable`` false)."""
    found: dict[str, list[str]] = {}
    tables: list[tuple[str, Callable]] = [("comparisons", results.comparisons)]
    if results.attention_methods():
        tables.append(("attention comparisons", results.attention_comparisons))
    for name, read in tables:
        try:
            frame = read()
        except ResultMissing:
            continue
        if "reachable" not in frame:
            continue
        bad = frame[~frame["reachable"].astype(str).str.lower().isin(("true", "1"))]
        entries = [f"{family} ({test})" for (family, test), _ in bad.groupby(["family", "test"], sort=True)]
        if entries:
            found[name] = entries
    return found


def _unreachable(results: Results) -> list[str]:
    return [f"<b>Unreachable families.</b> In the {name}, these families cannot reach significance at alpha 0.05 "
            f"after adjustment with this many folds and comparisons, whatever the data: {text(', '.join(entries))}. "
            "Their p-values carry no evidence either way."
            for name, entries in unreachable_families(results).items()]


def _unequal_budgets(results: Results) -> list[str]:
    """Comparisons on the PE views (arms trained on the same pairs) whose two arms trained on different budgets
    (the comparisons table's ``budget_differs``); on the full views the baselines train on other subsets by design."""
    try:
        frame = results.comparisons()
    except ResultMissing:
        return []
    if "budget_differs" not in frame:
        return []
    flagged = frame[frame["budget_differs"].fillna(False).astype(bool) & frame["subset"].isin(PE_VIEWS)]
    flagged = flagged.drop_duplicates(["family", "comparison"])
    if flagged.empty:
        return []
    entries = [f"{row.comparison} ({row.family}: {row.budget})" for row in flagged.itertuples()]
    return [f"<b>Unequal training budgets.</b> In these comparisons the two arms took different optimiser steps or "
            f"saw different images per epoch (study.json, more than 1% apart): {text('; '.join(entries))}. Their "
            "difference mixes the method with the budget."]


def _demo_data(results: Results) -> list[str]:
    images = results.images()
    if "source" not in images or not (images["source"].astype(str) == "demo").all():
        return []
    return ["<b>Demo data, not real faces.</b> The images are the built-in synthetic demo faces "
            "(<i>python -m trainers data demo</i>): they exercise the pipeline and have known evidence maps, but "
            "no result here says anything about real facial expressions."]


def _coarse_gradcam(results: Results) -> list[str]:
    """Grad-CAM's map size as the audit recorded it (``audit.json`` ``layers``), when the input is small."""
    if "gradcam" not in results.attention_methods():
        return []
    layers = results.attention_layers("gradcam").dropna(subset=["grid_h", "input_size"])
    small = layers[layers["input_size"] < SMALL_INPUT]
    if small.empty:
        return []
    used = sorted({f"{row.layer} ({int(row.grid_h)}x{int(row.grid_w)} cells at {int(row.input_size)} px)"
                   for row in small.itertuples()})
    return [f"<b>Coarse Grad-CAM.</b> The audit's Grad-CAM maps come from {text(', '.join(used))} (the paper's layer4 "
            "gives 7x7 at 224 px): a small input forces either a coarse last-block map or a shallower, less "
            "class-specific layer, so the maps cannot separate the mask from the eyes finely and the region metrics "
            "are indicative only. Audit at 112 px or more before drawing conclusions."]


def _warnings(results: Results) -> list[str]:
    """Analysis warnings, except those restating an unreachable family (listed above)."""
    families = {entry.split(" (")[0] for entries in unreachable_families(results).values() for entry in entries}
    lines = []
    for _, row in results.steps().iterrows():
        for warning in row["warnings"]:
            if any(f"'{family}'" in warning for family in families):
                continue
            lines.append(f"<b>Analysis warning</b> (step <i>{text(row['step'])}</i>): {text(warning)}")
    return lines


CHECKS: tuple[Callable[[Results], list[str]], ...] = (
    _few_folds, _random_init, _demo_data, _coarse_gradcam, _unreachable, _unequal_budgets, _warnings,
)


@register
class LimitationsSection(Section):
    name = "limitations"
    title = "Limitations"
    order = 90

    def content(self, context: Context) -> list[Flowable]:
        lines = [line for check in CHECKS for line in check(context.results)]
        lines += [f"<b>Not shown.</b> {text(note)}" for note in context.notes]
        if not lines:
            return [paragraph("No limitation was detected automatically (enough folds, pretrained weights, real "
                              "data, every family reachable, no analysis warnings).")]
        items = [ListItem(paragraph(line), leftIndent=12, value="circle") for line in lines]
        return [paragraph("Generated from the study's own settings and analysis: each item says what to discount "
                          "and why."), ListFlowable(items, bulletType="bullet", start="\u2022", leftIndent=12)]
