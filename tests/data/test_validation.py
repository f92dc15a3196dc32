"""Label validation: the vote rule case by case, pairs, outputs and bad votes files."""

from __future__ import annotations

import pandas as pd
import pytest

from trainers.data.manifest import Manifest
from trainers.data.validation import AUDIT_COLUMNS, load_votes, validate_labels, write_validation
from trainers.common.errors import DataError


def make_manifest(root, labels: dict[str, str], pairs: dict[str, str] | None = None) -> Manifest:
    """Images ``image_id -> label``; ``pairs`` maps a non-masked id to its masked partner."""
    pairs = pairs or {}
    partner_of = {**pairs, **{m: nm for nm, m in pairs.items()}}
    rows = [
        dict(image_id=i, path=f"images/{i}.png", subject=i.split("_")[0], label=label,
             masked=i in pairs.values(), pair_id=min(i, partner_of[i]) if i in partner_of else "", source="test")
        for i, label in labels.items()
    ]
    return Manifest(pd.DataFrame(rows), root)


def make_votes(ballots: dict[str, list[str]], n_volunteers: int) -> pd.DataFrame:
    """Volunteers v0..v{n-1}; ``ballots[image]`` lists the proposals of v0, v1, ...; the other
    volunteers get a blank row for that image."""
    rows = []
    for image_id, proposals in ballots.items():
        for volunteer in range(n_volunteers):
            proposal = proposals[volunteer] if volunteer < len(proposals) else ""
            rows.append(dict(image_id=image_id, volunteer=f"v{volunteer}", proposed_label=proposal))
    return pd.DataFrame(rows)


# (case, volunteers, proposals of the flagging volunteers, expected decision, expected label).
# The image is labelled "happy". Worked by hand: non-flaggers endorse happy, "none" endorses nothing;
# the top class needs 2 * votes >= volunteers, every other class 4 * votes <= volunteers.
CASES = [
    ("unflagged", 7, [], None, "happy"),
    ("1 of 7 proposes sad: happy 6, sad 1", 7, ["sad"], "kept", "happy"),
    ("2 of 7 propose sad: sad 2 > 25%", 7, ["sad", "sad"], "removed", ""),
    ("2 of 7 propose different classes", 7, ["sad", "fear"], "kept", "happy"),
    ("4 of 7 propose sad: happy keeps 3 > 25%", 7, ["sad"] * 4, "removed", ""),
    ("5 sad + 2 none: sad 5, nothing else", 7, ["sad"] * 5 + ["none"] * 2, "relabelled", "sad"),
    ("5 sad + 1 none + 1 accepts: happy 1 <= 25%", 7, ["sad"] * 5 + ["none"], "relabelled", "sad"),
    ("6 sad + 1 fear", 7, ["sad"] * 6 + ["fear"], "relabelled", "sad"),
    ("3 sad + 2 fear: sad 3 < half", 7, ["sad"] * 3 + ["fear"] * 2, "removed", ""),
    ("4 sad + 2 fear + 1 accepts: fear 2 > 25%", 7, ["sad"] * 4 + ["fear"] * 2, "removed", ""),
    ("4 sad + 3 none: sad 4, happy 0", 7, ["sad"] * 4 + ["none"] * 3, "relabelled", "sad"),
    ("3 none: happy 4 of 7", 7, ["none"] * 3, "kept", "happy"),
    ("4 none: happy 3 < half", 7, ["none"] * 4, "removed", ""),
    ("7 none: nothing endorsed", 7, ["none"] * 7, "removed", ""),
    ("exactly half, exactly 25%: sad 4 of 8, happy 2", 8, ["sad"] * 4 + ["none"] * 2, "relabelled", "sad"),
    ("exactly half but happy 3 of 8 > 25%", 8, ["sad"] * 4 + ["none"], "removed", ""),
    ("tie at half: sad 2, happy 2 of 4", 4, ["sad", "sad"], "removed", ""),
    ("one volunteer proposes sad", 1, ["sad"], "relabelled", "sad"),
    ("proposing the given label accepts it", 7, ["happy", "happiness"], None, "happy"),
    ("synonyms are normalised", 7, ["sadness"] * 6 + ["none"], "relabelled", "sad"),
]


@pytest.mark.parametrize(("case", "volunteers", "proposals", "decision", "label"), CASES, ids=[c[0] for c in CASES])
def test_vote_rule(tmp_path, case, volunteers, proposals, decision, label):
    manifest = make_manifest(tmp_path, {"a_img": "happy", "b_other": "fear"})
    votes = make_votes({"a_img": proposals}, volunteers)
    votes_path = tmp_path / "votes.csv"
    votes.to_csv(votes_path, index=False)
    result = validate_labels(manifest, load_votes(votes_path, manifest))
    table = result.manifest.table.set_index("image_id")
    assert table.loc["b_other", "label"] == "fear"
    if decision is None:
        assert result.audit.empty
    else:
        (row,) = result.audit.to_dict("records")
        assert (row["decision"], row["new_label"]) == (decision, label)
        assert row["votes_none"] == proposals.count("none")
    if decision == "removed":
        assert "a_img" not in table.index
    else:
        assert table.loc["a_img", "label"] == label


def test_volunteer_without_a_row_endorses_the_given_label(tmp_path):
    # v0 and v1 flag a_img; v2..v6 vote only on b_other: for a_img they count as endorsing happy.
    manifest = make_manifest(tmp_path, {"a_img": "happy", "b_other": "fear"})
    rows = [("a_img", "v0", "sad"), ("a_img", "v1", "fear")] + [("b_other", f"v{v}", "") for v in range(2, 7)]
    votes = pd.DataFrame(rows, columns=["image_id", "volunteer", "proposed_label"])
    result = validate_labels(manifest, votes)
    (row,) = result.audit.to_dict("records")
    assert (row["votes_happy"], row["votes_sad"], row["votes_fear"], row["decision"]) == (5, 1, 1, "kept")
    assert result.counts["volunteers"] == 7


def test_pairs_that_diverge_or_lose_an_image_leave_msd_pe(tmp_path):
    labels = {"s1_nm": "sad", "s1_m": "sad", "s2_nm": "fear", "s2_m": "fear",
              "s3_nm": "angry", "s3_m": "angry", "s4_nm": "happy"}
    pairs = {"s1_nm": "s1_m", "s2_nm": "s2_m", "s3_nm": "s3_m"}
    manifest = make_manifest(tmp_path, labels, pairs)
    # s2_m is relabelled surprise (pair diverges), s3_m is removed (pair loses an image).
    votes = make_votes({"s2_m": ["surprise"] * 7, "s3_m": ["none"] * 7}, 7)
    result = validate_labels(manifest, votes)
    validated = result.manifest.table.set_index("image_id")
    assert validated.loc["s2_m", "label"] == "surprise" and validated.loc["s2_m", "pair_id"] == "s2_m"
    assert "s3_m" not in validated.index and validated.loc["s3_nm", "pair_id"] == ""
    assert sorted(result.pairs.table["image_id"]) == ["s1_m", "s1_nm"]
    assert result.counts == {"images": 7, "volunteers": 7, "unflagged": 5, "flagged": 2, "kept": 0,
                             "relabelled": 1, "removed": 1, "pairs_before": 3, "pairs_kept": 1, "pairs_removed": 2}
    assert list(result.audit.columns) == list(AUDIT_COLUMNS)
    assert result.audit["image_id"].tolist() == ["s2_m", "s3_m"]


def test_write_validation_writes_loadable_outputs(tmp_path):
    manifest = make_manifest(tmp_path / "data", {"s1_nm": "sad", "s1_m": "sad", "s2_nm": "fear"}, {"s1_nm": "s1_m"})
    result = validate_labels(manifest, make_votes({"s2_nm": ["angry"] * 7}, 7))
    written = write_validation(result, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["audit.csv", "manifest.csv", "pairs.csv"]
    reloaded = Manifest.load(written["manifest"])
    assert [p.resolve() for p in reloaded.abspaths()] == manifest.abspaths()
    assert reloaded.table.set_index("image_id").loc["s2_nm", "label"] == "angry"
    assert len(Manifest.load(written["pairs"])) == 2
    assert pd.read_csv(written["audit"])["decision"].tolist() == ["relabelled"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("image_id,volunteer,proposed_label\na_img,v0,\na_img,v1,sorrow\n", "line 3: unknown label 'sorrow'"),
        ("image_id,volunteer,proposed_label\na_img,v0,sad\nzz_missing,v0,sad\n", "line 3: image_id 'zz_missing' is not in the manifest"),
        ("image_id,volunteer,proposed_label\na_img,v0,sad\na_img,v0,fear\n", "line 3: volunteer 'v0' voted on image 'a_img' more than once"),
        ("image_id,volunteer,proposed_label\n,v0,sad\n", "line 2: image_id and volunteer must not be blank"),
        ("image_id,volunteer,label\na_img,v0,sad\n", "missing column\\(s\\) proposed_label"),
    ],
)
def test_bad_votes_file_names_the_row(tmp_path, content, message):
    manifest = make_manifest(tmp_path, {"a_img": "happy"})
    path = tmp_path / "votes.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=f"votes.csv: {message}"):
        load_votes(path, manifest)


def test_votes_for_unknown_images_are_refused_by_validate_labels(tmp_path):
    manifest = make_manifest(tmp_path, {"a_img": "happy"})
    votes = load_votes(_write(tmp_path / "votes.csv", "image_id,volunteer,proposed_label\nother,v0,none\n"))
    with pytest.raises(DataError, match="line 2: image_id 'other' is not in the manifest"):
        validate_labels(manifest, votes)


def _write(path, text):
    path.write_text(text)
    return path


def test_validate_labels_normalises_a_raw_votes_table(tmp_path):
    manifest = make_manifest(tmp_path, {"a_img": "happy"})
    votes = pd.DataFrame({"image_id": ["a_img"] * 4, "volunteer": ["v0", "v1", " v2", "v3"],
                          "proposed_label": [" Sadness ", "SAD", None, "sad"]})
    (row,) = validate_labels(manifest, votes).audit.to_dict("records")
    assert (row["votes_sad"], row["votes_happy"], row["decision"], row["new_label"]) == (3, 1, "relabelled", "sad")
