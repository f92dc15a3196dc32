"""``python -m trainers run``: train models over subject-disjoint folds into a run directory."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from trainers.config import load_preset, override, preset_names
from trainers.common.errors import DataError
from trainers.executors import create_executor
from trainers.executors.base import Executor, TasksFailed
from trainers.common.options import parse_assignments

GROUP = None

log = logging.getLogger(__name__)


def _int_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of fold numbers") from exc


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` command."""
    parser = subparsers.add_parser(
        "run", help="train models over folds into a run directory (resumable)",
        description="Train each model on each fold; a rerun resumes unfinished folds and skips finished ones.",
    )
    parser.add_argument("--data", type=Path, required=True, help="manifest file (.csv or .parquet)")
    parser.add_argument("--preset", default="quick", help=f"config preset: {', '.join(preset_names())} or a .toml file")
    parser.add_argument("--models", help="comma-separated arms (default: every registered arm, baselines first)")
    parser.add_argument("--out", type=Path, required=True, help="run directory, e.g. runs/NAME")
    parser.add_argument("--test-data", type=Path,
                        help="cross-dataset: evaluate every fold's model on this manifest instead of its held-out "
                        "fold (labels matched by name); the folds split --data only, --k 1 trains on all of it")
    parser.add_argument("--folds", type=_int_list, help="fold indices to run, e.g. 0,3 (default: the preset's)")
    parser.add_argument("--fold-file", type=Path,
                        help="subject -> fold CSV written by `trainers data folds --out`: the run's folds (and k) "
                        "are the file's; every subject of --data must be in it (default: folds drawn from --seed)")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--weights", help="backbone weights: a state-dict / .pth.tar file, or 'imagenet' (MobileNetV2)")
    parser.add_argument("--allow-random-init", action="store_true",
                        help="let arms start from random initialisation under a preset that requires weights (paper)")
    parser.add_argument("--partial-weights", action="store_true",
                        help="accept a weights file that fills fewer than 90%% of the backbone's tensors")
    parser.add_argument("--architecture", help="backbone from the model registry (default: the preset's)")
    parser.add_argument("--epochs", type=int, help="override the preset's epochs")
    parser.add_argument("--image-size", type=int, help="override the preset's input size in pixels")
    parser.add_argument("--batch-size", type=int, help="override the preset's batch size")
    parser.add_argument("--k", type=int, help="override the preset's number of folds")
    parser.add_argument("--repeats", type=int,
                        help="repeated cross-validation: R x k folds, each repeat with its own fold assignment "
                        "(seed + r); --folds are then run in every repeat (default 1)")
    parser.add_argument("--seed", type=int, help="override the preset's seed")
    parser.add_argument("--set", action="append", default=[], metavar="ARM.OPTION=VALUE",
                        help="a method option, as in the preset's [methods.ARM] table, e.g. cl.feature_weight=0.5 or "
                        "ran.decay_at=0.5,0.8 (lists comma-separated); repeatable")
    parser.add_argument("--no-bf16", dest="bf16", action="store_false", default=None, help="train in float32")
    parser.add_argument(
        "--trust-pickle", action="store_true",
        help="allow SCAN's VGGFace2 .pkl weights ([methods.scan] weights); a pickle can run code, "
        "so only for files you trust",
    )
    parser.add_argument("--compile", action="store_true", help="torch.compile each model's trunk (pays off on a GPU)")
    scale = parser.add_argument_group("executor", "where the (model, fold) tasks run (docs/training.md, Scale out)")
    scale.add_argument("--executor", choices=("local", "ray"), default="local",
                       help="local: one after another in this process (default); ray: each a Ray task")
    scale.add_argument("--address", help="ray: join this cluster ('auto' or HOST:PORT; default: start Ray here)")
    scale.add_argument("--cpus-per-task", type=float, default=1.0, help="ray: CPUs (and torch threads) per task (default 1)")
    scale.add_argument("--gpus-per-task", type=float, default=0.0,
                       help="ray: GPUs per task; a fraction such as 0.25 puts four tasks on one GPU (default 0: CPU)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Resolve the config, train, print the summary table."""
    from trainers.methods import arm_names, check_config, set_options
    from trainers.runner import format_summary, run_study

    config = load_preset(args.preset)
    weights = args.weights
    if weights is not None and weights != "imagenet":
        weights = str(Path(weights).resolve())
        if not Path(weights).is_file():
            raise DataError(f"--weights {args.weights}: file not found")
    k = args.k
    if args.fold_file is not None:
        from trainers.data.folds import read_fold_file

        _, file_k = read_fold_file(args.fold_file)
        if k is not None and k != file_k:
            raise DataError(f"--k {k}: --fold-file {args.fold_file} has {file_k} folds")
        k = file_k
    config = override(
        config, weights=weights, architecture=args.architecture, epochs=args.epochs, image_size=args.image_size,
        batch_size=args.batch_size, k=k, repeats=args.repeats, seed=args.seed, folds=args.folds, bf16=args.bf16,
        require_weights=False if args.allow_random_init else None, partial_weights=args.partial_weights or None,
    )
    if args.trust_pickle:
        scan = {**config.methods.get("scan", {}), "trust_pickle": True}
        config = override(config, methods={**config.methods, "scan": scan})
    config = set_options(config, parse_assignments(args.set, "ARM.OPTION=VALUE"))
    models = [name.strip() for name in args.models.split(",") if name.strip()] if args.models else arm_names()
    check_config(config, models)  # every arm's options, before an executor starts or a file is written
    executor = _executor(args)
    try:
        summary = run_study(args.data, config, Path(args.preset).stem, models, args.out, device=args.device,
                            executor=executor, compile_model=args.compile, fold_file=args.fold_file,
                            test_data=args.test_data)
    except TasksFailed as failed:
        print(format_summary(failed.summary))
        print(f"summary: {args.out / 'summary.csv'}")
        print(f"error: {failed} (tracebacks above); rerun the same command to retry them", file=sys.stderr)
        return 1
    print(format_summary(summary))
    print(f"summary: {args.out / 'summary.csv'}")
    return 0


def _executor(args: argparse.Namespace) -> Executor | None:
    """The Ray executor for ``--executor ray``; ``None`` (the runner's local default) otherwise."""
    if args.executor == "local":
        if args.address or args.gpus_per_task or args.cpus_per_task != 1.0:
            raise DataError("--address, --cpus-per-task and --gpus-per-task need --executor ray")
        return None
    return create_executor("ray", address=args.address, cpus_per_task=args.cpus_per_task,
                           gpus_per_task=args.gpus_per_task)
