"""The synthetic mask styles: each style's outline and colours (cloth masks also a pattern)."""

from __future__ import annotations

from trainers.data.masking.outline import OutlineShape

STYLES: dict[str, OutlineShape] = {
    "surgical": OutlineShape(bridge=0.36, under_eyes=0.46, cheeks=0.55, chin=1.05, sag=0.04),
    "n95": OutlineShape(bridge=0.30, under_eyes=0.42, cheeks=0.60, chin=1.09, sag=0.08),
    "cloth": OutlineShape(bridge=0.34, under_eyes=0.44, cheeks=0.52, chin=1.07, sag=0.05),
}
"""Mask styles and their outline."""
PALETTES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "surgical": ((160, 196, 224), (184, 212, 232), (234, 238, 240), (158, 204, 188), (56, 60, 68)),
    "n95": ((238, 237, 232), (224, 226, 224), (204, 207, 212)),
    "cloth": ((38, 40, 46), (32, 52, 94), (124, 32, 42), (92, 96, 100), (198, 170, 122), (68, 108, 80),
              (228, 222, 212)),
}
PATTERNS = ("plain", "stripes", "dots")
