"""Per-subject traits that stay the same across all of a subject's images."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from trainers.data.labels import CLASSES

HAIR_COLOURS: tuple[tuple[int, int, int], ...] = (
    (22, 18, 16), (40, 28, 20), (70, 45, 28), (110, 75, 45), (165, 130, 80), (120, 120, 118), (120, 55, 30),
)
HAIR_STYLES: tuple[str, ...] = ("short", "long", "crop", "bun")
MASK_KINDS: tuple[str, ...] = ("surgical", "n95", "cloth")
MASK_COLOURS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "surgical": ((150, 195, 225), (140, 200, 170), (235, 238, 240)),
    "n95": ((238, 238, 235), (60, 90, 160), (35, 35, 38)),
    "cloth": ((180, 40, 50), (30, 60, 110), (60, 110, 60), (230, 180, 60), (90, 50, 110), (200, 120, 150),
              (40, 40, 40), (210, 200, 185)),
}
CLOTH_PATTERNS: tuple[str, ...] = ("plain", "dots", "stripes", "checks")


@dataclass(frozen=True)
class SubjectTraits:
    """What makes one synthetic subject recognisable.

    Attributes
    ----------
    shape
        Smooth face deformation: ``[width, height, jaw, forehead, nose, cheeks]`` factors around 0.
    skin, lips, brows, iris, hair
        RGB colours.
    hair_style
        One of :data:`HAIR_STYLES`.
    hairline
        Fraction of the forehead the hair covers.
    brow_thickness
        Brow height factor.
    glasses
        Whether the subject wears glasses; ``glasses_colour`` their frame colour.
    expressiveness
        Multiplier of every expression intensity (some subjects subtle, some strong).
    style
        Per class, AU name -> weight change: how this subject's expression differs from the prototype.
    mask_kind, mask_colour, mask_pattern
        The subject's own mask.
    background
        Two RGB colours of a vertical gradient.
    """

    shape: tuple[float, ...]
    skin: tuple[int, int, int]
    lips: tuple[int, int, int]
    brows: tuple[int, int, int]
    iris: tuple[int, int, int]
    hair: tuple[int, int, int]
    hair_style: str
    hairline: float
    brow_thickness: float
    glasses: bool
    glasses_colour: tuple[int, int, int]
    expressiveness: float
    style: dict[str, dict[str, float]]
    mask_kind: str
    mask_colour: tuple[int, int, int]
    mask_pattern: str
    background: tuple[tuple[int, int, int], tuple[int, int, int]]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready traits for ``demo.json``."""
        return asdict(self)


def _rgb(values: np.ndarray) -> tuple[int, int, int]:
    clipped = np.clip(np.round(values), 0, 255).astype(int)
    return int(clipped[0]), int(clipped[1]), int(clipped[2])


def _skin(rng: np.random.Generator) -> np.ndarray:
    light, dark = np.array([246.0, 214.0, 186.0]), np.array([88.0, 56.0, 40.0])
    tone = rng.beta(1.3, 1.3)
    return light + (dark - light) * tone + rng.normal(0.0, 6.0, 3)


def _style(rng: np.random.Generator, au_pool: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Idiosyncratic changes to each class prototype (drop or add an action unit)."""
    style: dict[str, dict[str, float]] = {}
    for name in CLASSES:
        if name == "neutral":
            style[name] = {}
            continue
        change: dict[str, float] = {}
        for au in rng.choice(au_pool, size=rng.integers(0, 3), replace=False):
            change[str(au)] = round(float(rng.uniform(-0.6, 0.5)), 3)
        style[name] = change
    return style


def sample_traits(rng: np.random.Generator, au_pool: tuple[str, ...]) -> SubjectTraits:
    """Draw one subject's traits from ``rng``; ``au_pool`` lists the AUs a personal style may change."""
    skin = _skin(rng)
    hair = np.asarray(HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))], dtype=float)
    lips = skin * np.array([0.78, 0.52, 0.55]) + np.array([40.0, 5.0, 10.0]) + rng.normal(0.0, 8.0, 3)
    mask_kind = str(rng.choice(MASK_KINDS, p=[0.4, 0.25, 0.35]))
    colours = MASK_COLOURS[mask_kind]
    pattern = str(rng.choice(CLOTH_PATTERNS)) if mask_kind == "cloth" else "plain"
    bg_top = rng.uniform(60.0, 230.0, 3)
    return SubjectTraits(
        shape=tuple(round(float(x), 4) for x in rng.normal(0.0, 1.0, 6)),
        skin=_rgb(skin),
        lips=_rgb(lips),
        brows=_rgb(np.minimum(hair, skin) * 0.45),
        iris=_rgb(rng.choice([[60, 40, 25], [95, 65, 35], [70, 100, 130], [80, 110, 70], [35, 30, 28]])),
        hair=_rgb(hair),
        hair_style=str(rng.choice(HAIR_STYLES)),
        hairline=round(float(rng.uniform(0.15, 0.45)), 3),
        brow_thickness=round(float(rng.uniform(1.5, 2.5)), 3),
        glasses=bool(rng.uniform() < 0.25),
        glasses_colour=_rgb(rng.choice([[20, 20, 20], [90, 60, 30], [150, 150, 160], [120, 20, 30]])),
        expressiveness=round(float(np.clip(rng.lognormal(-0.1, 0.35), 0.3, 1.6)), 3),
        style=_style(rng, au_pool),
        mask_kind=mask_kind,
        mask_colour=colours[rng.integers(len(colours))],
        mask_pattern=pattern,
        background=(_rgb(bg_top), _rgb(bg_top * rng.uniform(0.55, 0.95))),
    )


def deform(mesh: np.ndarray, reference: np.ndarray, shape: tuple[float, ...]) -> np.ndarray:
    """Smoothly reshape ``mesh`` by a displacement field evaluated on the ``reference`` (neutral) mesh.

    The field depends only on the neutral positions, so a subject's expressive and neutral meshes
    get the same per-vertex offsets and the expression displacement is left untouched.
    """
    width, height, jaw, forehead, nose, cheeks = shape
    extent = np.abs(reference).max(axis=0)
    x, y, z = (reference / extent).T
    offset = np.zeros_like(reference)
    offset[:, 0] = extent[0] * (0.05 * width * x + 0.05 * jaw * x * np.clip(y, 0.0, None) ** 2
                                + 0.03 * cheeks * x * np.exp(-4.0 * y ** 2))
    offset[:, 1] = extent[1] * (0.04 * height * y + 0.05 * forehead * np.clip(-y, 0.0, None) ** 2
                                + 0.04 * jaw * np.clip(y, 0.0, None) ** 3)
    offset[:, 2] = extent[2] * 0.10 * nose * np.exp(-((x / 0.18) ** 2) - ((y - 0.05) / 0.3) ** 2)
    return mesh + offset
