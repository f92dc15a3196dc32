"""Which images the audit explains: a seeded, subject-stratified random sample over all folds.

Taking the first rows of the manifest would audit the first few subjects (often one fold, one
recording session); the sample instead visits subjects in a random order, one pair (or single
image) per subject per round, so every subject - and so every fold - is represented before any
subject gets a second pair. Pairs stay whole: the audit compares both images of a pair.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def stratified_sample(images: pd.DataFrame, n: int, seed: int = 0) -> list[str]:
    """At most ``n`` image ids (0 = all), whole pairs, spread over subjects, in ``images`` order.

    Parameters
    ----------
    images
        One row per candidate image: ``image_id``, ``pair_id`` (``""`` for a single image) and
        ``subject``.
    n
        Most images to return; 0 returns every image.
    seed
        Seed of the subject order and of the order of each subject's pairs.

    Returns
    -------
    list of str
        The chosen ids in the order of ``images``. A pair that does not fit in what is left of
        ``n`` is skipped (a smaller unit of another subject may still fit).
    """
    images = images.drop_duplicates("image_id")
    if not n or n >= len(images):
        return list(images["image_id"])
    units = images.assign(unit=images["pair_id"].where(images["pair_id"] != "", images["image_id"]))
    sizes = units.groupby("unit", sort=False).size()
    rng = np.random.default_rng(seed)
    queues = []
    for _, group in units.groupby("subject", sort=True):
        names = list(dict.fromkeys(group["unit"]))
        queues.append([names[i] for i in rng.permutation(len(names))])
    queues = [queues[i] for i in rng.permutation(len(queues))]
    chosen: set[str] = set()
    left = n
    while left > 0 and any(queues):
        for queue in queues:
            while queue:
                unit = queue.pop(0)
                if sizes[unit] <= left:
                    chosen.add(unit)
                    left -= int(sizes[unit])
                    break
    return list(units.loc[units["unit"].isin(chosen), "image_id"])
