"""Cells of the command's summaries and CSV files, shared by the classification and the box
outputs. Private to :mod:`ls_cleanlab.cli`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ls_cleanlab.report import task_link

__all__ = ["as_float", "fmt", "issues_csv_frame", "plain", "with_names"]


def as_float(value: Any) -> float | None:
    """``value`` as a finite float, else None (JSON has no NaN)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value (user ids as ints in JSON)."""
    return value.item() if hasattr(value, "item") else value


def fmt(value: float | None, digits: int = 3) -> str:
    """A number with ``digits`` decimals, an en dash when there is none."""
    return "–" if value is None else f"{value:.{digits}f}"


def issues_csv_frame(
    issues: Any, task_ids: np.ndarray, priority: np.ndarray, project: int | None, url: str | None
) -> Any:
    """``issues.csv``'s rows: the task's Label Studio id and review priority first, a link to the
    task last, highest priority first."""
    frame = issues.copy()
    rows = frame["task"].to_numpy(dtype=np.int64)
    frame.insert(0, "task_id", task_ids[rows])
    frame.insert(1, "priority", priority[rows])
    frame = frame.drop(columns=["task"])
    frame["link"] = [task_link(url, project, int(t)) or "" for t in frame["task_id"]]
    return frame.sort_values(["priority", "score"], ascending=False, kind="stable")


def with_names(frame: Any, name: Any) -> Any:
    """``frame`` with a ``name`` column (``name(annotator)``) after its ``annotator`` column."""
    if "annotator" not in frame.columns:
        return frame
    out = frame.copy()
    at = list(out.columns).index("annotator") + 1
    out.insert(at, "name", [name(a) for a in out["annotator"]])
    return out
