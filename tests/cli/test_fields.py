"""Table cells of the command's summaries: names padded by the columns a terminal gives them."""

from __future__ import annotations

import io
from typing import Any

import pytest

from ls_cleanlab.cli.fields import display_width, pad
from ls_cleanlab.cli.output import print_annotators, print_audit

WIDTHS = {
    "ascii": ("cat", 3),
    "cjk": ("猫の木", 6),
    "full-width": ("ｃａｔ", 6),
    "emoji": ("🐱cat", 5),
    "combining-accent": ("cafe\u0301", 4),
    "emoji-style-heart": ("\u2764\ufe0f", 2),
    "zwj-family": ("👨\u200d👩\u200d👧", 2),
    "skin-tone": ("👍🏽", 2),
    "two-flags": ("🇫🇷🇩🇪", 4),
}


@pytest.mark.parametrize(("text", "width"), WIDTHS.values(), ids=WIDTHS.keys())
def test_display_width_counts_terminal_columns(text: str, width: int) -> None:
    assert display_width(text) == width
    assert display_width(pad(text, 9)) == 9


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("猫の木", 5, "猫の "),
        ("🐱cat", 2, "🐱"),
        ("👨\u200d👩\u200d👧x", 2, "👨\u200d👩\u200d👧"),
        ("abc", 2, "ab"),
    ],
    ids=["wide-not-split", "emoji-kept-whole", "zwj-sequence-kept", "ascii"],
)
def test_cut_never_splits_a_character_and_fills_the_width(
    text: str, width: int, expected: str
) -> None:
    assert pad(text, width, cut=True) == expected


NAMES = ["plain", "猫の木と森の名前", "🐱 cats 🐱", "ＦＵＬＬ"]


def columns_of(line: str, marker: str) -> int:
    """The terminal column where ``marker`` starts on ``line``."""
    return display_width(line[: line.index(marker)])


def test_class_table_rows_line_up_with_wide_names() -> None:
    classes = [
        {"class": name, "issues": 10 + i, "missing": 1, "spurious": 2}
        | {"miss_rate": 0.5, "spurious_rate": 0.25}
        for i, name in enumerate([*NAMES, "a class name longer than the column of 24"])
    ]
    summary: dict[str, Any] = {
        "project": 1,
        "source": "the model",
        "tasks": {"audited": 5, "read": 5, "labelled": 5, "skipped": 0},
        "schema": {"inferred": False},
        "skipped_reasons": [],
        "issues": {"total": 0, "tasks": 0, "by_kind": {}},
        "queues": {},
        "top_classes": classes,
        "annotators_of_concern": [],
        "push": None,
        "dry_run": True,
        "files": {},
    }
    out = io.StringIO()
    print_audit(summary, out)
    rows = [line for line in out.getvalue().splitlines() if " 0.500 " in line]
    assert len(rows) == len(classes)
    starts = {columns_of(row, f" {c['issues']} ") for row, c in zip(rows, classes, strict=True)}
    # "  ", the name in 24 columns, " ", then the two-digit count right-aligned in 6 columns
    assert starts == {2 + 24 + 1 + 4 - 1}


def test_annotator_table_rows_line_up_with_wide_names() -> None:
    rows = [
        {"name": name, "quality": 0.9 - 0.1 * i, "agreement": 0.8, "n_tasks": 10}
        | {"n_shared_tasks": 5, "mean_lead_time": 3.0, "labels_per_task": 1.0, "flags": []}
        for i, name in enumerate(NAMES)
    ]
    out = io.StringIO()
    print_annotators({"annotators": rows, "pairwise": None, "flags": {}}, out)
    lines = out.getvalue().splitlines()
    header = columns_of(lines[0], "quality")
    for line in lines[1:]:
        assert columns_of(line, "0.") == header + len("quality") - len("0.900")
