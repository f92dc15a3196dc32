"""The attention shift as ``python -m interp.analyze`` (and so ``make demo``) prints it.

One line per arm: the within-pair shift d = U(M) - U(NM) (mean over folds of subject means), its
corrected-t and subject-bootstrap intervals, the adjusted corrected-t and sign-flip p-values, and the
band of the same effect on randomised networks (the null); then the difference in differences of the
paper's arms against the reference (``baseline-pe``), the claim that CL and KD shift more than it.
"""

from __future__ import annotations

import math

import pandas as pd

from interp.present import p_value

DECIMALS = 2


def signed(value: float | None) -> str:
    """A signed number with :data:`DECIMALS` places; ``n/a`` when missing."""
    if value is None or pd.isna(value) or (isinstance(value, float) and math.isinf(value)):
        return "n/a"
    return f"{round(float(value), DECIMALS) + 0.0:+.{DECIMALS}f}"


def span(low: float | None, high: float | None) -> str:
    """``[low, high]`` of two signed numbers."""
    return f"[{signed(low)}, {signed(high)}]"


def shift_cells(shift: pd.DataFrame, quantity: str) -> pd.DataFrame:
    """The printed columns of the all-class rows of one ``quantity`` of ``Results.attention_shift()``."""
    rows = shift[(shift["quantity"] == quantity) & (shift["class"] == "all")]
    return pd.DataFrame({
        "arm": rows["model"] + ((" - " + rows["reference"]) if quantity == "did" else ""),
        "map": rows["map_kind"].str.split(":").str[-1],
        "d": rows["effect"].map(signed),
        "corrected-t CI": [span(a, b) for a, b in zip(rows["ci_low"], rows["ci_high"])],
        "subject-bootstrap CI": [span(a, b) for a, b in zip(rows["boot_low"], rows["boot_high"])],
        "p (t, adj.)": rows["p_adjusted"].map(p_value),
        "p (sign-flip)": rows["p_perm"].map(p_value),
        "null band": [span(a, b) for a, b in zip(rows["null_low"], rows["null_high"])],
        "content d": rows["content_d"].map(signed),
        "pairs": rows["n_pairs"].astype(int), "no evidence": rows["n_missing"].astype(int),
        "subjects": rows["n_subjects"].astype(int),
    })


def shift_printout(shift: pd.DataFrame, method: str) -> str:
    """The attention-shift block of the analysis printout (empty string without rows)."""
    if shift.empty:
        return ""
    blocks = [f"attention shift ({method}; d = U(M) - U(NM), U = log upper-face / lower-face share, area-normalised; "
              "> 0: masking moves evidence up the face; null band: randomised networks, 2.5-97.5%; no evidence: "
              "pairs without enough positive evidence on an image):",
              shift_cells(shift, "shift").to_string(index=False)]
    learned = shift_cells(shift, "learned")
    if (learned["d"] != "n/a").any():  # without a null (null_draws=0) there is no learned shift
        blocks += ["learned shift (d minus the randomised networks' d on the same pair):",
                   learned.drop(columns=["content d"]).to_string(index=False)]
    did = shift_cells(shift, "did")
    if len(did):
        blocks += ["difference in differences (does the arm shift more than the reference on the same pairs?):",
                   did.drop(columns=["content d"]).to_string(index=False)]
    return "\n".join(blocks)
