"""Cells of the command's summaries and CSV files, shared by the classification and the box
outputs. Private to :mod:`ls_cleanlab.cli`."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

import numpy as np

from ls_cleanlab.report import task_link

__all__ = [
    "as_float",
    "display_width",
    "fmt",
    "issues_csv_frame",
    "pad",
    "plain",
    "with_names",
]

ZWJ, EMOJI_STYLE = "\u200d", "\ufe0f"
SKIN_TONES = range(0x1F3FB, 0x1F400)
FLAG_LETTERS = range(0x1F1E6, 0x1F200)


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


def _cell_widths(text: str) -> list[int]:
    """The columns each character of ``text`` takes in a terminal: 2 for East Asian wide and
    full-width characters and emoji, 0 for combining marks and format characters, a skin tone
    after an emoji or a character joined to the one before (ZWJ sequences), 1 more for a narrow
    symbol shown as emoji (``U+FE0F``), one flag (two regional letters) 2."""
    out: list[int] = []
    joined = flag = False
    for ch in text:
        code = ord(ch)
        if ch == EMOJI_STYLE and out and out[-1] == 1:
            out[-1], width = 2, 0
        elif unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            width = 0
        elif joined or (code in SKIN_TONES and [w for w in out if w][-1:] == [2]):
            width = 0
        elif code in FLAG_LETTERS:
            width, flag = (0 if flag else 2), not flag
        else:
            width = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        joined = ch == ZWJ
        flag = flag and code in FLAG_LETTERS
        out.append(width)
    return out


def display_width(text: str) -> int:
    """The columns ``text`` takes in a terminal (:func:`_cell_widths`)."""
    return sum(_cell_widths(text))


def pad(text: str, width: int, *, cut: bool = False) -> str:
    """``text`` padded with spaces to ``width`` columns of a terminal, so a table stays aligned
    with wide names; with ``cut``, first cut to at most ``width`` columns (never inside a wide
    character)."""
    widths = _cell_widths(text)
    used, end = 0, len(text)
    for at, w in enumerate(widths):
        if cut and used + w > width:
            end = at
            break
        used += w
    return text[:end] + " " * max(width - used, 0)
