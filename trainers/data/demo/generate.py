"""Write the demo dataset: images, manifest, votes, evidence maps, per-image truth and ``demo.json``.

Every subject's traits and every image's expression and pose come from numpy Generators seeded
with ``(seed, subject)`` and ``(seed, subject, class, take)``, so the files do not depend on the
number of worker processes, and the same seed gives byte-identical files (``demo.json`` differs
only in its ``provenance`` block: creation time, host, git commit).
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from trainers.common.atomic import atomic_open, atomic_path
from trainers.data.demo.evidence import EVIDENCE_SIZE
from trainers.data.demo.expressions import NUISANCE_AUS, PROTOTYPES, ExpressionParams, sample_expression
from trainers.data.demo.identity import sample_traits
from trainers.data.demo.mesh import LANDMARK_INDICES, LANDMARK_LAYOUT, load_face_model
from trainers.data.demo.pair import render_pair
from trainers.data.demo.preview import contact_sheet
from trainers.data.demo.render import sample_pose
from trainers.data.demo.votes import VOTE_COLUMNS, VoteParams, simulate_votes
from trainers.data.labels import CLASSES
from trainers.data.manifest import Manifest, format_points
from trainers.common.errors import DataError
from trainers.common.provenance import provenance

log = logging.getLogger(__name__)

GENERATOR_VERSION = "1.0.0"
REPEAT_SHARE = 13 / 142
"""Share of subjects who pose one tough expression a second time (MSD-E: 13 extra pairs of 142 subjects)."""
TOUGH_CLASSES: tuple[str, ...] = ("fear", "disgust", "angry")


@dataclass(frozen=True)
class DemoConfig:
    """Everything that decides the generated files."""

    subjects: int = 142
    size: int = 256
    seed: int = 0
    supersample: int = 2
    png_compress_level: int = 3
    expression: ExpressionParams = field(default_factory=ExpressionParams)
    votes: VoteParams = field(default_factory=VoteParams)


@dataclass
class SubjectOutput:
    """Rows produced by one subject: manifest rows, vote rows, per-image truth and traits."""

    rows: list[dict[str, object]]
    votes: list[dict[str, str]]
    truth: list[dict[str, object]]
    traits: dict[str, object]


def subject_name(index: int) -> str:
    """``s001`` for subject index 0."""
    return f"s{index + 1:03d}"


def repeat_plan(config: DemoConfig) -> dict[int, str]:
    """Subject index -> the tough class that subject poses a second time."""
    rng = np.random.default_rng([config.seed, 7_777])
    count = int(round(config.subjects * REPEAT_SHARE))
    chosen = sorted(int(i) for i in rng.choice(config.subjects, size=count, replace=False))
    return {index: str(rng.choice(TOUGH_CLASSES)) for index in chosen}


def _save_png(image: Image.Image, path: Path, level: int) -> None:
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG", compress_level=level)


def _save_npy(array: np.ndarray, path: Path) -> None:
    with atomic_open(path, "wb") as handle:
        np.save(handle, array, allow_pickle=False)


def generate_subject(index: int, config: DemoConfig, out: Path, repeat: str | None) -> SubjectOutput:
    """Render and write every image of one subject; return its rows."""
    model = load_face_model()
    subject = subject_name(index)
    traits = sample_traits(np.random.default_rng([config.seed, index]), NUISANCE_AUS)
    poses = [(label, 1) for label in CLASSES] + ([(repeat, 2)] if repeat else [])
    output = SubjectOutput([], [], [], {"subject": subject, **traits.to_dict()})
    for label, take in poses:
        rng = np.random.default_rng([config.seed, index, CLASSES.index(label), take])
        expression = sample_expression(label, traits, rng, config.expression)
        pose = sample_pose(rng)
        pair = render_pair(model, traits, expression, pose, config.size, config.supersample)
        pair_id = f"{subject}_{label}_{take}"
        landmarks = format_points(pair.points[LANDMARK_INDICES, :2])
        polygon = format_points(pair.polygon)
        for masked, image in ((False, pair.unmasked), (True, pair.masked)):
            image_id = f"{pair_id}_{'m' if masked else 'n'}"
            path = Path("images") / subject / f"{image_id}.png"
            _save_png(image, out / path, config.png_compress_level)
            evidence = Path("evidence") / f"{image_id}.npy"
            _save_npy(pair.masked_evidence if masked else pair.evidence, out / evidence)
            output.rows.append({
                "image_id": image_id, "path": path.as_posix(), "subject": subject, "label": label,
                "masked": masked, "pair_id": pair_id, "source": "demo", "landmarks": landmarks,
                "mask_polygon": polygon, "landmark_layout": LANDMARK_LAYOUT.name, "evidence": evidence.as_posix(),
            })
            vote_rng = np.random.default_rng([config.seed, index, CLASSES.index(label), take, int(masked), 99])
            output.votes.extend(simulate_votes(image_id, expression, masked, model.au_names, vote_rng, config.votes))
            output.truth.append({
                "image_id": image_id, "intensity": expression.intensity, "blend": expression.blend,
                "blend_weight": expression.blend_weight, "yaw": pose.yaw, "pitch": pose.pitch, "roll": pose.roll,
                "mask_kind": traits.mask_kind if masked else "",
                **{au: round(expression.expression_aus.get(au, 0.0), 4) for au in model.au_names},
            })
    return output


def _run_subjects(config: DemoConfig, out: Path, workers: int) -> list[SubjectOutput]:
    plan = repeat_plan(config)
    indices = list(range(config.subjects))
    repeats = [plan.get(i) for i in indices]
    task = partial(_subject_task, config=config, out=out)
    progress = dict(total=config.subjects, desc="demo subjects", unit="subject")
    if workers <= 1:
        return [task(pair) for pair in tqdm(zip(indices, repeats), **progress)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(tqdm(pool.map(task, zip(indices, repeats)), **progress))


def _subject_task(item: tuple[int, str | None], config: DemoConfig, out: Path) -> SubjectOutput:
    return generate_subject(item[0], config, out, item[1])


def generate_demo(out: Path, *, subjects: int = 142, size: int = 256, seed: int = 0, preview: Path | None = None,
                  workers: int = 1) -> Manifest:
    """Generate the demo dataset into ``out`` and return its manifest.

    Parameters
    ----------
    out
        Output folder (created). Gets ``images/<subject>/<image_id>.png``, ``manifest.csv``,
        ``votes.csv``, ``truth.csv``, ``evidence/<image_id>.npy`` and ``demo.json``.
    subjects, size, seed
        Number of subjects (14 or 16 images each), image side in pixels, random seed.
    preview
        Where to write a labelled contact sheet of the most expressive subject's images (optional).
    workers
        Processes rendering subjects in parallel; the files do not depend on it.

    Raises
    ------
    DataError
        On impossible parameters.
    """
    if subjects < 1 or size < 32 or workers < 1:
        raise DataError(f"demo: need subjects >= 1, size >= 32 and workers >= 1 (got {subjects}, {size}, {workers})")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = DemoConfig(subjects=subjects, size=size, seed=seed)
    results = _run_subjects(config, out, workers)
    manifest = Manifest(pd.DataFrame([row for r in results for row in r.rows]), out)
    manifest.save(out / "manifest.csv")
    with atomic_path(out / "votes.csv") as tmp:
        pd.DataFrame([v for r in results for v in r.votes], columns=VOTE_COLUMNS).to_csv(tmp, index=False)
    with atomic_path(out / "truth.csv") as tmp:
        pd.DataFrame([t for r in results for t in r.truth]).to_csv(tmp, index=False)
    _write_description(out, config, [r.traits for r in results])
    if preview is not None:
        clearest = max(results, key=lambda r: r.traits["expressiveness"])
        contact_sheet(manifest, str(clearest.traits["subject"]), Path(preview))
    log.info("demo: %d images of %d subjects in %s", len(manifest), subjects, out)
    return manifest


def _write_description(out: Path, config: DemoConfig, traits: list[dict[str, object]]) -> None:
    description = {
        "generator": "trainers.data.demo",
        "generator_version": GENERATOR_VERSION,
        "seed": config.seed,
        "parameters": asdict(config),
        "prototypes": PROTOTYPES,
        "landmarks": {"layout": LANDMARK_LAYOUT.name, "mesh_indices": LANDMARK_INDICES.tolist(),
                      "groups": {name: list(rows) for name, rows in LANDMARK_LAYOUT.groups.items()}},
        "evidence": {"size": EVIDENCE_SIZE, "dtype": "float16",
                     "unit": "pixels of the stored image the expression moved the visible surface",
                     "masked": "the pair's map with every cell the mask touches set to zero"},
        "subjects": traits,
        "provenance": provenance(),
    }
    with atomic_open(out / "demo.json", "w") as handle:
        json.dump(description, handle, indent=1)
