"""Training time of a finished run directory, per model: folds, epochs, seconds, samples/s.

Seconds come from each fold's ``DONE`` (the sum of its epochs' training and evaluation time,
as :mod:`trainers.loop` records it); samples are the method's training samples of the fold
(images, or pairs for paired methods) times the epochs. ``--wall`` adds the study's wall time
(as measured by the caller) and the share of it spent outside the folds' epochs.

Run: ``python -m benchmarks.study_timing RUN_DIR [--wall SECONDS]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from trainers import rundir
from trainers.config import from_dict
from trainers.data.manifest import Manifest
from trainers.methods import create_method


def study_timing(run_dir: Path) -> pd.DataFrame:
    """One row per model: ``folds``, ``epochs``, ``seconds`` (summed over folds), ``samples_per_s``."""
    study = rundir.read_study(run_dir)
    config = from_dict(study["config"])
    table = Manifest.load(run_dir / rundir.MANIFEST_FILE).table
    folds_column = table["fold"].astype(int)
    rows = []
    for model in study["models"]:
        method = create_method(model, config)
        seconds, samples, folds, epochs = 0.0, 0, 0, 0
        for fold in study["folds"]:
            directory = rundir.fold_dir(run_dir, model, fold)
            if not rundir.is_done(directory):
                continue
            done = json.loads((directory / rundir.DONE_FILE).read_text())
            folds, epochs = folds + 1, int(done["epochs"])
            seconds += float(done["seconds"])
            samples += len(method.training_set(table[folds_column != fold])) * int(done["epochs"])
        rows.append({"model": model, "folds": folds, "epochs": epochs, "seconds": round(seconds, 1),
                     "samples_per_s": round(samples / seconds, 1) if seconds else float("nan")})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--wall", type=float, help="the study's wall-clock seconds, measured by the caller")
    args = parser.parse_args()
    timing = study_timing(args.run_dir)
    print(f"{args.run_dir} ({rundir.read_study(args.run_dir)['device']})")
    print(timing.to_string(index=False))
    if args.wall:
        inside = timing["seconds"].sum()
        print(f"wall {args.wall:.1f} s; fold epochs {inside:.1f} s; outside them "
              f"{args.wall - inside:.1f} s (start-up, cache, scheduling; negative when folds ran in parallel)")


if __name__ == "__main__":
    main()
