"""Label validation by volunteer votes (MSD-E paper, section 2.2).

Volunteers look at every image and either accept its label or flag it, proposing another class
when they can. The votes table (CSV) has one row per (image, volunteer) remark::

    image_id,volunteer,proposed_label
    s01_fear_nm,v1,surprise      # v1 flags the image and proposes surprise
    s01_fear_nm,v2,none          # v2 flags it without proposing a class
    s01_fear_nm,v3,              # v3 accepts the given label (same as having no row)

The volunteers are the distinct names in the table. A volunteer with no row for an image, a blank
proposal or a proposal equal to the given label endorses the given label. An image nobody flagged
keeps its label. A flagged image takes its most-endorsed class when at least half of the
volunteers endorse it and no other single class is endorsed by more than 25% of them; otherwise it
is removed. MSD-PE keeps the pairs whose two images both survive with the same label.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from trainers.common.atomic import atomic_path
from trainers.data.labels import CLASSES, normalise_label
from trainers.data.manifest import Manifest, complete_pairs
from trainers.data.text_csv import read_text_csv
from trainers.common.errors import DataError

log = logging.getLogger(__name__)

VOTE_COLUMNS: tuple[str, ...] = ("image_id", "volunteer", "proposed_label")
NO_PROPOSAL = "none"
AUDIT_COLUMNS: tuple[str, ...] = (
    ("image_id", "original_label") + tuple(f"votes_{name}" for name in CLASSES)
    + ("votes_none", "decision", "new_label", "reason")
)


@dataclass
class ValidationResult:
    """Outcome of :func:`validate_labels`.

    Attributes
    ----------
    manifest
        The validated manifest (MSD-E): surviving images with their new labels; the ``pair_id``
        of an image whose partner was removed is cleared.
    audit
        One row per flagged image, columns :data:`AUDIT_COLUMNS`.
    pairs
        The MSD-PE manifest: both images of every pair that survived with one shared label.
    counts
        Decision counts: ``images``, ``volunteers``, ``unflagged``, ``flagged``, ``kept``,
        ``relabelled``, ``removed``, ``pairs_before``, ``pairs_kept``, ``pairs_removed``.
    """

    manifest: Manifest
    audit: pd.DataFrame
    pairs: Manifest
    counts: dict[str, int]


def load_votes(path: str | os.PathLike, manifest: Manifest | None = None) -> pd.DataFrame:
    """Read a votes CSV and normalise its proposals.

    Parameters
    ----------
    path
        CSV with columns ``image_id,volunteer,proposed_label``.
    manifest
        When given, every ``image_id`` must be one of its images.

    Returns
    -------
    pandas.DataFrame
        Columns ``image_id``, ``volunteer``, ``proposed_label`` (``""`` = accepts, a class
        name, or ``"none"``) and ``row`` (the line number in the file, for messages).

    Raises
    ------
    DataError
        On a missing file or column, an unknown label, a duplicate (image, volunteer) row or an
        unknown image id; the message names the file and line.
    """
    path = Path(path)
    votes = read_text_csv(path, "votes file not found", "votes CSV")
    try:
        votes = normalise_votes(votes)
        _check_votes(votes, manifest)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from exc
    return votes


def normalise_votes(votes: pd.DataFrame) -> pd.DataFrame:
    """Strip the text, canonicalise the proposals and number the rows as lines of a CSV file.

    Idempotent: a table returned by :func:`load_votes` passes through unchanged.
    """
    votes = votes.rename(columns=lambda c: str(c).strip())
    missing = [c for c in VOTE_COLUMNS if c not in votes.columns]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}; the header must be {','.join(VOTE_COLUMNS)}")
    rows = votes["row"].tolist() if "row" in votes.columns else list(range(2, len(votes) + 2))
    votes = votes[list(VOTE_COLUMNS)].apply(lambda column: column.fillna("").astype(str).str.strip())
    votes["row"] = rows
    votes["proposed_label"] = [_proposal(value, row) for value, row in zip(votes["proposed_label"], votes["row"])]
    return votes.reset_index(drop=True)


def _proposal(value: str, row: int) -> str:
    if value == "" or value.lower() == NO_PROPOSAL:
        return value.lower()
    try:
        return normalise_label(value)
    except ValueError as exc:
        raise DataError(
            f"line {row}: {exc}, or blank to accept the label, or '{NO_PROPOSAL}' to flag without proposing"
        ) from exc


def _check_votes(votes: pd.DataFrame, manifest: Manifest | None) -> None:
    blank = votes[(votes["image_id"] == "") | (votes["volunteer"] == "")]
    if len(blank):
        raise DataError(f"line {blank['row'].iloc[0]}: image_id and volunteer must not be blank")
    duplicated = votes[votes.duplicated(["image_id", "volunteer"], keep="first")]
    if len(duplicated):
        first = duplicated.iloc[0]
        raise DataError(
            f"line {first['row']}: volunteer {first['volunteer']!r} voted on image {first['image_id']!r} "
            "more than once; keep one row per volunteer and image"
        )
    if manifest is not None:
        unknown = votes[~votes["image_id"].isin(set(manifest.table["image_id"]))]
        if len(unknown):
            first = unknown.iloc[0]
            raise DataError(
                f"line {first['row']}: image_id {first['image_id']!r} is not in the manifest "
                f"({len(unknown)} row(s) with unknown ids); check that the votes belong to this manifest"
            )


def decide(original: str, endorsements: dict[str, int], n_volunteers: int) -> tuple[str, str, str]:
    """Apply the vote rule to one flagged image.

    Parameters
    ----------
    original
        The image's given label.
    endorsements
        Volunteers endorsing each class (non-flaggers count for ``original``; ``none`` votes
        endorse nothing).
    n_volunteers
        Number of volunteers.

    Returns
    -------
    tuple of str
        ``(decision, new_label, reason)``; decision is ``kept``, ``relabelled`` or ``removed``
        and ``new_label`` is ``""`` when removed.
    """
    ranked = sorted(CLASSES, key=lambda name: -endorsements.get(name, 0))  # stable: CLASSES order on ties
    best, top = ranked[0], endorsements.get(ranked[0], 0)
    if 2 * top < n_volunteers:
        return "removed", "", f"most endorsed class {best} has {top} of {n_volunteers}, fewer than half"
    rivals = [name for name in ranked[1:] if 4 * endorsements.get(name, 0) > n_volunteers]
    if rivals:
        rival = rivals[0]
        return "removed", "", (
            f"{best} has {top} of {n_volunteers} but {rival} has {endorsements[rival]}, more than 25%"
        )
    if best == original:
        return "kept", best, f"{top} of {n_volunteers} endorse the given label"
    return "relabelled", best, f"{top} of {n_volunteers} endorse {best}, no other class above 25%"


def validate_labels(manifest: Manifest, votes: pd.DataFrame) -> ValidationResult:
    """Validate the labels of ``manifest`` with the volunteers' ``votes`` (see module doc).

    Parameters
    ----------
    manifest
        The manifest whose labels the volunteers judged.
    votes
        From :func:`load_votes`, or any table with the columns :data:`VOTE_COLUMNS` (missing
        values count as blank; proposals are normalised).

    Raises
    ------
    DataError
        When a vote has an unknown label, is duplicated or names an image not in the manifest.
    """
    votes = normalise_votes(votes)
    _check_votes(votes, manifest)
    n_volunteers = votes["volunteer"].nunique()
    table = manifest.table.copy()
    flags = votes[(votes["proposed_label"] != "")]
    flags = flags.merge(table[["image_id", "label"]], on="image_id")
    flags = flags[flags["proposed_label"] != flags["label"]]  # proposing the given label accepts it
    audit_rows = [
        _audit_row(image_id, group, n_volunteers)
        for image_id, group in flags.groupby("image_id", sort=False)
    ]
    audit = pd.DataFrame(audit_rows, columns=list(AUDIT_COLUMNS))
    position = {image_id: n for n, image_id in enumerate(table["image_id"])}
    audit = audit.sort_values("image_id", key=lambda ids: ids.map(position), kind="stable").reset_index(drop=True)
    decisions = audit.set_index("image_id")
    removed = set(decisions.index[decisions["decision"] == "removed"])
    new_labels = decisions.loc[decisions["decision"] != "removed", "new_label"]
    table["label"] = [new_labels.get(i, label) for i, label in zip(table["image_id"], table["label"])]
    table = table[~table["image_id"].isin(removed)].reset_index(drop=True)
    table = _clear_orphan_pairs(table)
    validated = manifest.with_table(table)
    pair_ids = set(complete_pairs(table).index)
    pairs = manifest.with_table(table[table["pair_id"].isin(pair_ids)])
    counts = _counts(manifest.table, audit, n_volunteers, len(pair_ids))
    log.debug("label validation: %s", ", ".join(f"{key} {value}" for key, value in counts.items()))
    return ValidationResult(validated, audit, pairs, counts)


def _audit_row(image_id: str, flags: pd.DataFrame, n_volunteers: int) -> dict[str, object]:
    original = flags["label"].iloc[0]
    proposals = flags["proposed_label"]
    endorsements = {name: int((proposals == name).sum()) for name in CLASSES}
    endorsements[original] = n_volunteers - len(flags)
    decision, new_label, reason = decide(original, endorsements, n_volunteers)
    row: dict[str, object] = {"image_id": image_id, "original_label": original}
    row.update({f"votes_{name}": endorsements[name] for name in CLASSES})
    row.update(votes_none=int((proposals == NO_PROPOSAL).sum()), decision=decision, new_label=new_label, reason=reason)
    return row


def _clear_orphan_pairs(table: pd.DataFrame) -> pd.DataFrame:
    """Clear ``pair_id`` where the partner was removed, so the manifest passes the pair check."""
    sizes = table.loc[table["pair_id"] != "", "pair_id"].value_counts()
    orphans = set(sizes.index[sizes < 2])
    table = table.copy()
    table.loc[table["pair_id"].isin(orphans), "pair_id"] = ""
    return table


def _counts(before: pd.DataFrame, audit: pd.DataFrame, n_volunteers: int, pairs_kept: int) -> dict[str, int]:
    decisions = audit["decision"].value_counts()
    pairs_before = int((before.loc[before["pair_id"] != "", "pair_id"].value_counts() == 2).sum())
    return {
        "images": len(before),
        "volunteers": int(n_volunteers),
        "unflagged": len(before) - len(audit),
        "flagged": len(audit),
        "kept": int(decisions.get("kept", 0)),
        "relabelled": int(decisions.get("relabelled", 0)),
        "removed": int(decisions.get("removed", 0)),
        "pairs_before": pairs_before,
        "pairs_kept": pairs_kept,
        "pairs_removed": pairs_before - pairs_kept,
    }


def write_validation(result: ValidationResult, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``manifest.csv``, ``audit.csv`` and ``pairs.csv`` into ``out_dir``, each atomically.

    Returns
    -------
    dict
        Name -> path of each file written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {"manifest": result.manifest.save(out_dir / "manifest.csv")}
    with atomic_path(out_dir / "audit.csv") as tmp:
        result.audit.to_csv(tmp, index=False)
    written["audit"] = out_dir / "audit.csv"
    written["pairs"] = result.pairs.save(out_dir / "pairs.csv")
    return written
