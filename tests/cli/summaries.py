"""The smallest summary :func:`ls_cleanlab.cli.output.print_audit` prints: a dry run of nothing
flagged, fields replaced by keyword."""

from __future__ import annotations

from typing import Any


def audit_summary(**fields: Any) -> dict[str, Any]:
    """A ``print_audit`` summary of five audited tasks, nothing flagged nor pushed, with
    ``fields`` in place of the defaults."""
    summary: dict[str, Any] = {
        "project": 1,
        "source": "the model",
        "tasks": {"audited": 5, "read": 5, "labelled": 5, "skipped": 0},
        "schema": {"inferred": False},
        "skipped_reasons": [],
        "issues": {"total": 0, "tasks": 0, "by_kind": {}},
        "queues": {},
        "top_classes": [],
        "annotators_of_concern": [],
        "push": None,
        "dry_run": True,
        "files": {},
    }
    return summary | fields
