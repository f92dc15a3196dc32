"""The attention audit: aggregation with fold statistics, sanity checks and figure-6 overlays; and the audit of
a model trained elsewhere (``python -m interp.audit``, :func:`audit_model` for a notebook's ``nn.Module``)."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # imported on first use: interp.audit.study pulls in the whole analysis, which the audit's own modules do not need
    if name in ("audit_model", "AuditOptions"):
        from interp.audit import study

        return getattr(study, name)
    raise AttributeError(f"module 'interp.audit' has no attribute {name!r}")
