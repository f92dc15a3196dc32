"""Read a CSV file that people write (an import table, a votes file) with every cell as text.

One guard for the importers and the votes reader: the file must exist, pandas must parse it, and no
cell becomes NaN or a number (``dtype=str``, empty cells stay ``""``), so ids like ``007`` keep their
zeros and the callers' own checks see exactly what the file holds.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trainers.common.errors import DataError


def read_text_csv(path: Path, missing: str, what: str = "CSV") -> pd.DataFrame:
    """``path`` as a table of strings.

    Parameters
    ----------
    path
        The CSV file.
    missing
        What the error says, after the path, when ``path`` is not a file (the fix, e.g. "give its path as SRC").
    what
        How the error names the file when pandas cannot parse it ("cannot read <what> (...)").

    Raises
    ------
    DataError
        ``"<path>: <missing>"`` or ``"<path>: cannot read <what> (<pandas' reason>)"``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: {missing}")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # pandas raises many types for bad files
        raise DataError(f"{path}: cannot read {what} ({exc})") from exc
