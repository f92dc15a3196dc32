"""The evaluation views, defined once: which validation images a score is computed on.

``NM`` and ``M`` are all non-masked and all masked validation images (the paper's Tables 3-4);
``PE-NM`` and ``PE-M`` the non-masked and masked images of complete validated pairs (the paper's
MSD-PE, Table 5; :func:`trainers.data.manifest.complete_pairs`). The trainers declare which views an
arm is the baseline for (:func:`trainers.methods.register_method`) and the analysis (:mod:`interp.tables`)
scores every arm on every view; both read the names from here.
"""

from __future__ import annotations

from trainers.common.errors import DataError

NM, M = "NM", "M"
PE_PREFIX = "PE-"
PE_NM, PE_M = PE_PREFIX + NM, PE_PREFIX + M
FULL_VIEWS: tuple[str, ...] = (NM, M)
PE_VIEWS: tuple[str, ...] = (PE_NM, PE_M)
VIEWS: tuple[str, ...] = FULL_VIEWS + PE_VIEWS
VIEW_DESCRIPTIONS: dict[str, str] = {
    NM: "all non-masked validation images (paper Table 3)",
    M: "all masked validation images (paper Table 4)",
    PE_NM: "non-masked images of complete validated pairs (MSD-PE, paper Table 5)",
    PE_M: "masked images of complete validated pairs (MSD-PE, paper Table 5)",
}


def check_views(views: tuple[str, ...] | list[str], where: str) -> None:
    """Raise :class:`DataError` naming ``where`` for a name outside :data:`VIEWS`."""
    unknown = [view for view in views if view not in VIEWS]
    if unknown:
        raise DataError(f"{where}: unknown evaluation view(s) {', '.join(map(repr, unknown))}; "
                        f"views: {', '.join(VIEWS)}")
