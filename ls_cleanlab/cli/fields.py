"""Cells of the command's summaries and CSV files, shared by the classification and the box
outputs. Private to :mod:`ls_cleanlab.cli`."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

import numpy as np

from ls_cleanlab.report import task_link
from ls_cleanlab.report.characters import PREPENDED, SKIN_TONES, ZWJ

__all__ = [
    "as_float",
    "display_width",
    "fmt",
    "issues_csv_frame",
    "pad",
    "plain",
    "printable",
    "with_names",
]

EMOJI_STYLE, SOFT_HYPHEN = "\ufe0f", "\u00ad"
FLAG_LETTERS = range(0x1F1E6, 0x1F200)
#: Hangul vowel and final jamo (U+1160-11FF, Extended-B U+D7B0-D7FF), the fillers, the tags and
#: the variation selectors supplement: letters or unassigned, yet drawn within a syllable or not
#: at all
_ZERO_RANGES = (range(0x1160, 0x1200), range(0xD7B0, 0xD800), range(0xE0000, 0xE1000))
_ZERO_CODES = frozenset({0x2028, 0x2029, 0x3164, 0xFFA0})


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
    """The columns each character of ``text`` takes in a terminal, by the ``wcwidth``
    convention: 2 for East Asian wide and full-width characters, emoji and a skin tone on its
    own; 0 for marks, format characters except the soft hyphen (1), Hangul vowel and final jamo,
    a skin tone after an emoji, and a character joined by ZWJ to an emoji before it; 1 more for a
    narrow symbol or digit shown as emoji (``U+FE0F``); one flag (two regional letters) 2."""
    out: list[int] = []
    base = 0  # the code of the last character with a width
    joined = flag = False
    for ch in text:
        code = ord(ch)
        width = 0
        if ch == EMOJI_STYLE:
            if out and out[-1] == 1 and _emoji_style(chr(base)):
                out[-1] = 2
        elif joined:
            pass  # drawn within the emoji it is joined to
        elif code in SKIN_TONES:
            width = 0 if _pictograph(base) else 2
        elif code in FLAG_LETTERS:
            width, flag = (0 if flag else 2), not flag
        elif not _zero_width(ch):
            width = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        joined = ch == ZWJ and (_pictograph(base) or base in FLAG_LETTERS)
        flag = flag and code in FLAG_LETTERS
        base = code if width else base
        out.append(width)
    return out


def _zero_width(ch: str) -> bool:
    code = ord(ch)
    if ch == SOFT_HYPHEN or code in PREPENDED:
        return False
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Cf")
        or code in _ZERO_CODES
        or any(code in zero for zero in _ZERO_RANGES)
    )


def _pictograph(code: int) -> bool:
    """An emoji a skin tone or ZWJ attaches to: Unicode's Extended_Pictographic, by its blocks
    (miscellaneous symbols, dingbats, arrows and the U+1F000-1FAFF planes)."""
    return (
        (0x2600 <= code <= 0x27BF or 0x2B00 <= code <= 0x2BFF or 0x1F000 <= code <= 0x1FAFF)
        and code not in SKIN_TONES
        and code not in FLAG_LETTERS
    )


def _emoji_style(ch: str) -> bool:
    """Whether ``U+FE0F`` after ``ch`` asks for an emoji (emoji-variation-sequences.txt lists
    symbols, digits, ``#``, ``*``, two punctuation marks and one letter, ``U+2139`` ℹ; a few
    other symbols, e.g. ``+``, are widened here though a terminal draws them narrow)."""
    return ch in "#*0123456789\u203c\u2049\u2139" or unicodedata.category(ch) in ("So", "Sm")


def display_width(text: str) -> int:
    """The columns ``text`` takes in a terminal, shown :func:`printable` (:func:`_cell_widths`)."""
    return sum(_cell_widths(printable(text)))


def printable(text: str) -> str:
    """``text`` with each control character (C0, DEL, C1; category Cc) shown as its Python
    escape, ``\\t``, ``\\x1b``: names come from users, and a terminal would act on an escape
    sequence in one (clear the screen, retitle the window) or jump to a tab stop."""
    if text.isprintable() or not any(unicodedata.category(ch) == "Cc" for ch in text):
        return text
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) == "Cc" else ch
        for ch in text
    )


def pad(text: str, width: int, *, cut: bool = False) -> str:
    """``text`` (:func:`printable`) padded with spaces to ``width`` columns of a terminal, so a
    table stays aligned with wide names; with ``cut``, first cut to at most ``width`` columns
    (never inside a wide character)."""
    text = printable(text)
    widths = _cell_widths(text)
    used, end = 0, len(text)
    for at, w in enumerate(widths):
        if cut and used + w > width:
            end = at
            break
        used += w
    return text[:end] + " " * max(width - used, 0)
