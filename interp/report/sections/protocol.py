"""Section ``protocol``: how the study was trained and analysed - every arm's resolved settings, the
shared training config, initialisation, folds, analysis steps and package versions."""

from __future__ import annotations

import json

from reportlab.platypus import Flowable

from interp.present import cross_dataset_note
from interp.report.sections import register
from interp.report.sections.base import Context, Section
from reports.flowables import paragraph, swatch, table, text
from reports.styles import FRAME_WIDTH


def flatten(config: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Nested config -> ``(dotted.key, value)`` rows in the config's order."""
    rows: list[tuple[str, str]] = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows += flatten(value, f"{name}.")
        else:
            rows.append((name, json.dumps(value) if isinstance(value, list | dict) else str(value)))
    return rows


def options(values: dict) -> str:
    """An arm's options as ``key=value`` text."""
    return ", ".join(f"{key}={value}" for key, value in values.items()) or "-"


@register
class ProtocolSection(Section):
    name = "protocol"
    title = "Protocol"
    order = 20

    def content(self, context: Context) -> list[Flowable]:
        results = context.results
        if results.audited():
            return audited_protocol(context)
        study, config = results.study, results.config()
        arms = study.get("arms", {})
        init = config.get("weights") or "random initialisation (no pretrained weights)"
        cross = cross_dataset_note(results.cross_dataset())
        parts: list[Flowable] = [paragraph(
            f"Every arm is a {text(config.get('architecture', '?'))} trained from {text(init)} for "
            f"{text(config.get('epochs'))} epochs on {text(config.get('image_size'))} px face crops with "
            f"{text(study.get('k'))}-fold subject-wise cross-validation (folds {text(study.get('folds'))}, seed "
            f"{text(study.get('seed'))}). Each fold trains a fresh model on the other folds and "
            + ("predicts the test dataset" if cross else "predicts its own held-out subjects")
            + "; every number below is computed per fold first and then summarised over folds.")]
        if cross:
            parts.append(paragraph(text(cross)))
        rows = [[swatch(context.colours.get(arm, "#000000"), arm), str(spec.get("method", "?")),
                 options(spec.get("options", {})), str(spec.get("architecture", "?")),
                 str(spec.get("init") or spec.get("weights") or "random"), str(spec.get("epochs")),
                 str(spec.get("batch_size"))]
                for arm, spec in arms.items()]
        parts += table(["arm", "method", "options", "architecture", "init", "epochs", "batch"], rows,
                       "Resolved settings of each arm as recorded in <i>study.json</i> (defaults included).",
                       widths=[w * FRAME_WIDTH for w in (0.15, 0.14, 0.33, 0.12, 0.1, 0.08, 0.08)],
                       numeric=(5, 6), markup_columns=(0,))
        shared = [[key, value] for key, value in flatten(config)]
        parts += table(["setting", "value"], shared, "The resolved training configuration shared by all arms "
                       "(preset " f"<i>{text(study.get('preset') or 'custom')}</i> with overrides applied).",
                       widths=[0.35 * FRAME_WIDTH, 0.65 * FRAME_WIDTH])
        images = results.images()
        sizes = images.groupby(["fold", "masked"]).size().unstack(fill_value=0)
        fold_rows = [[str(fold), str(int(row.get(False, 0))), str(int(row.get(True, 0))),
                      str(int(images[images["fold"] == fold]["subject"].nunique()))]
                     for fold, row in sizes.iterrows()]
        parts += table(["fold", "non-masked", "masked", "subjects"], fold_rows,
                       "Validation images and subjects per fold of the frozen manifest; a subject's images "
                       "are all in one fold, so no face is seen in training and validation.",
                       widths=[0.25 * FRAME_WIDTH] * 4, numeric=(1, 2, 3))
        steps = results.steps()
        if len(steps):
            step_rows = [[row["step"], row["description"], f"{row['seconds']:.1f}" if row["seconds"] else "-",
                          str(len(row["warnings"]))] for _, row in steps.iterrows()]
            parts += table(["analysis step", "what it wrote", "seconds", "warnings"], step_rows,
                           "The <i>interp.analyze</i> steps behind this report (<i>analysis/index.json</i>); "
                           "warnings are listed under Limitations.",
                           widths=[w * FRAME_WIDTH for w in (0.16, 0.6, 0.12, 0.12)], numeric=(2, 3))
        versions = sorted(study.get("versions", {}).items())
        parts += table(["package", "version"], [[name, str(version)] for name, version in versions],
                       "Package versions of the training run.", widths=[0.35 * FRAME_WIDTH, 0.3 * FRAME_WIDTH])
        return parts


TARGETS = {"true": "the labelled class", "pair": "the class predicted on the pair's non-masked face (both images)",
           "pred": "each image's own predicted class"}


def layer_text(layer: dict) -> str:
    """``name (8x8 map; rule)``: the Grad-CAM layer of an audited model."""
    return f"{layer['name']} ({layer['side']}x{layer['side']} map; {layer['rule']})"


def audited_protocol(context: Context) -> list[Flowable]:
    """The protocol of a study written by ``python -m interp.audit``: the model was audited, not trained here;
    its resolved card, the Grad-CAM layer and where its features come from."""
    results = context.results
    record = results.audited()
    parts: list[Flowable] = [paragraph(
        f"This study <b>audits a model that was not trained here</b>: every image of the manifest "
        f"({text(record.get('images'))} images, {text(record.get('pairs'))} non-masked/masked pairs, "
        + ("labelled" if record.get("labelled") else "<b>without labels</b>")
        + f") was scored once by the model as given, as a single fold <i>{text(record.get('fold'))}</i> "
        f"(stored as fold 0 of a one-fold split; no image was trained on). The attribution maps explain "
        f"{text(TARGETS.get(record.get('target'), record.get('target')))}. Manifest hash "
        f"{text(str(results.study.get('manifest_hash', ''))[:12])}.")]
    for arm, audited in record["arms"].items():
        card = audited.get("card", {})
        rows = [[key, ", ".join(map(str, value)) if isinstance(value, list) else str(value)]
                for key, value in card.items() if value not in (None, "")]
        rows += [["outputs read as", audited.get("outputs", "")],
                 ["our class per output", ", ".join(audited.get("output_classes", []))],
                 ["Grad-CAM layer", layer_text(audited["layer"])],
                 ["features (embeddings)", audited.get("features", "")],
                 ["model file SHA-256", str(audited.get("model_sha256", "-"))[:16]]]
        parts += table(["field", "value"], rows,
                       f"The model card of arm {swatch(context.colours.get(arm, '#000000'), arm)} as resolved and "
                       "recorded in <i>study.json</i>.", widths=[0.3 * FRAME_WIDTH, 0.7 * FRAME_WIDTH])
    versions = sorted(results.study.get("versions", {}).items())
    parts += table(["package", "version"], [[name, str(version)] for name, version in versions],
                   "Package versions of the audit.", widths=[0.35 * FRAME_WIDTH, 0.3 * FRAME_WIDTH])
    return parts
