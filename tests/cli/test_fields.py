"""Table cells of the command's summaries: names padded by the columns a terminal gives them."""

from __future__ import annotations

import io
import unicodedata

import pytest

from ls_cleanlab.cli.fields import display_width, pad
from ls_cleanlab.cli.output import print_annotators, print_audit
from tests.cli.summaries import audit_summary

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
    # Hangul: a leading consonant jamo is wide, the vowel and final jamo that follow are drawn
    # within its syllable (U+1160-11FF, Extended-B U+D7B0-D7FF); precomposed syllables are wide
    "hangul-decomposed": (unicodedata.normalize("NFD", "한국어"), 6),
    "hangul-precomposed": ("한국어", 6),
    "hangul-extended-b-final": ("\u1100\u1161\ud7cb", 2),
    "hangul-fillers": ("\u115f\u1160|\u3164|", 4),  # choseong filler wide, the others zero
    # a skin tone combines with the emoji before it, and is a wide swatch after anything else
    "skin-tone-after-letter": ("a\U0001f3fd", 3),
    "skin-tone-after-cjk": ("猫\U0001f3fd", 4),
    "skin-tone-alone": ("\U0001f3fd!", 3),
    "soft-hyphen": ("co\u00adop", 5),  # shown as a hyphen (wcwidth: 1), unlike other Cf
    "zero-width-space-and-marks": ("a\u200bb\u2060c", 3),
    "arabic-number-sign": ("\u0600\u0661", 2),  # a format character that prints
    # variation selectors: none takes a column; U+FE0F widens a narrow symbol or digit only
    "text-style": ("\u2764\ufe0e", 1),
    "emoji-style-on-a-letter": ("a\ufe0f", 1),
    "emoji-style-on-a-wide-emoji": ("\U0001f431\ufe0f", 2),
    "keycap": ("#\ufe0f\u20e3", 2),
    # the one letter with an emoji presentation (emoji-variation-sequences.txt): INFORMATION SOURCE
    "emoji-style-information-letter": ("\u2139\ufe0f", 2),
    "supplement-selector": ("\u845b\U000e0100", 2),  # an ideographic variant
    "mongolian-selector": ("\u1820\u180b", 1),
    # ZWJ joins emoji; after a letter only the ZWJ takes no column
    "zwj-after-cjk": ("猫\u200d猫", 4),
    "zwj-after-skin-toned-emoji": ("\U0001f44d\U0001f3fd\u200d\U0001f525", 2),
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
        (unicodedata.normalize("NFD", "한국"), 3, unicodedata.normalize("NFD", "한") + " "),
    ],
    ids=["wide-not-split", "emoji-kept-whole", "zwj-sequence-kept", "ascii", "jamo-syllable-kept"],
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
    summary = audit_summary(top_classes=classes)
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


HOSTILE = ["Eve\x1b[2J\x1b]0;owned\x07", "tab\there", "del\x7f\x9bc1"]  # any user sets her name


def test_control_characters_in_names_are_shown_escaped_and_keep_tables_aligned() -> None:
    rows = [
        {"name": name, "quality": 0.9, "agreement": 0.8, "n_tasks": 10}
        | {"n_shared_tasks": 5, "mean_lead_time": 3.0, "labels_per_task": 1.0, "flags": []}
        for name in HOSTILE
    ]
    pairwise = {"names": HOSTILE, "agreement": [[1.0] * 3] * 3, "alpha": 0.5}
    out = io.StringIO()
    print_annotators({"annotators": rows, "pairwise": pairwise, "flags": {}}, out)
    classes = [{"class": name, "issues": 10, "missing": 1, "spurious": 2}
               | {"miss_rate": 0.5, "spurious_rate": 0.25} for name in HOSTILE]  # fmt: skip
    left_out = {"count": 1, "items": "annotations", "reason": "unknown_choice"}
    left_out |= {"meaning": "a choice not in the config", "example": HOSTILE[0]}
    print_audit(audit_summary(top_classes=classes, skipped_reasons=[left_out]), out)
    text = out.getvalue()
    assert not [ch for ch in text if unicodedata.category(ch) == "Cc" and ch != "\n"]
    assert "Eve\\x1b[2J\\x1b]0;owned\\x07" in text and "tab\\there" in text
    lines = text.splitlines()
    header = columns_of(lines[0], "quality")
    assert {columns_of(line, "0.900") for line in lines[1:4]} == {header + 2}
    assert pad("a\tb", 6) == "a\\tb  "
