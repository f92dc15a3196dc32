"""What produced an artefact: package versions, git commit, device, time."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import platform
import subprocess
from pathlib import Path

PACKAGES: tuple[str, ...] = (
    "maskfer", "torch", "torchvision", "numpy", "pandas", "scikit-learn", "scipy",
    "statsmodels", "captum", "umap-learn", "pillow",
)


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed version of each package (``"absent"`` when not installed), plus Python's."""
    versions = {"python": platform.python_version()}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def git_commit(start: Path | None = None) -> str:
    """The commit of the maskfer checkout (suffixed ``-dirty`` with local changes), or ``"unknown"``."""
    where = start or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=where, capture_output=True,
            text=True, check=True, timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


def provenance(**extra: object) -> dict[str, object]:
    """A record for any artefact: versions, git commit, host, UTC time, and ``extra`` fields."""
    record: dict[str, object] = {
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "versions": package_versions(),
        "host": platform.node(),
    }
    record.update(extra)
    return record
