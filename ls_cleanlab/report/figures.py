"""The report's figures: matplotlib charts drawn from arrays, returned as base64 PNG strings.

Private to :mod:`ls_cleanlab.report`. Figures are made with ``matplotlib.figure.Figure`` and the
Agg canvas directly, so pyplot's global state and the user's backend are never touched, and
matplotlib is imported only when a report is written.
"""

from __future__ import annotations

import base64
import io
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ls_cleanlab.report.characters import DRAWN_FORMAT, PREPENDED, SKIN_TONES, ZWJ

__all__ = [
    "agreement_heatmap",
    "confusion_heatmap",
    "cooccurrence_heatmap",
    "overview_bars",
    "quality_histogram",
    "quality_vs_lead_time",
]

#: Rows and columns a matrix figure shows at most (the most frequent first).
MAX_MATRIX = 30
_BLUE = "#3b6ea5"
_RED = "#c0392b"
_MISSING = "\u25a1"  # WHITE SQUARE


def _label(text: str) -> str:
    """``text`` as a chart draws it: each ``$`` escaped (a name is never mathtext, and
    ``$\\frac$`` would not even parse), and each character none of the chart's fonts has, with
    the marks and the ZWJ-joined characters that go with it, as one ``□``, the box matplotlib
    would draw, without its warning per missing glyph (silencing that with
    ``warnings.catch_warnings`` would change the warning filters of every thread). The report's
    tables beside the chart show the name whole."""
    has = _glyph_check()
    out: list[str] = []
    boxed = joined = False
    for ch in text:
        category = unicodedata.category(ch)
        code = ord(ch)  # a format character with a glyph of its own is no mark
        printed = code in PREPENDED or any(code in drawn for drawn in DRAWN_FORMAT)
        mark = (category in ("Mn", "Me", "Cf") and not printed) or code in SKIN_TONES
        if boxed and (mark or joined):
            pass  # drawn within the box
        elif mark and (category == "Cf" or "VARIATION SELECTOR" in unicodedata.name(ch, "")):
            out.append(ch)  # drawn as nothing, font or not
        else:
            boxed = not has(ch)
            out.append(_MISSING if boxed else "\\$" if ch == "$" else ch)
        joined = ch == ZWJ
    return "".join(out)


def _glyph_check() -> Callable[[str], bool]:
    """Whether one of the fonts matplotlib draws chart text with (one per family of
    ``rcParams["font.family"]``, as its font fallback chooses them) has a character."""
    from matplotlib.font_manager import FontProperties, findfont, get_font

    paths = []
    for family in FontProperties().get_family():
        try:
            paths.append(findfont(FontProperties(family=family), fallback_to_default=False))
        except ValueError:  # a family not installed: matplotlib skips it too
            continue
    fonts = [get_font(path) for path in paths or [findfont(FontProperties())]]

    def has(ch: str) -> bool:  # printable ASCII is in every font, a newline breaks the line
        return " " <= ch <= "~" or ch == "\n" or any(f.get_char_index(ord(ch)) for f in fonts)

    return has


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _short(names: Sequence[str], width: int = 18) -> list[str]:
    return [_label(n if len(n) <= width else n[: width - 1] + "…") for n in names]


def overview_bars(by_kind: Mapping[str, int], queues: Mapping[str, int]) -> str:
    """Issues per kind and tasks per review queue, side by side."""
    figure = _figure(9.0, 2.8)
    left, right = figure.subplots(1, 2)
    for axes, counts, title, colour in (
        (left, by_kind, "Issues by kind", _RED),
        (right, queues, "Tasks per review queue", _BLUE),
    ):
        names, values = list(counts), [int(v) for v in counts.values()]
        axes.barh(range(len(names)), values, color=colour)
        axes.set_yticks(range(len(names)), _short(names, 24))
        axes.invert_yaxis()
        axes.set_title(title, fontsize=10)
        for y, v in enumerate(values):
            axes.text(v, y, f" {v}", va="center", fontsize=8)
        axes.margins(x=0.15)
        axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return _png(figure)


def quality_histogram(quality: np.ndarray, threshold: float) -> str:
    """Label quality (1 - review priority) of the labelled tasks."""
    figure = _figure(7.0, 2.8)
    axes = figure.subplots()
    axes.hist(quality, bins=np.linspace(0.0, 1.0, 41), color=_BLUE)
    axes.axvline(1.0 - threshold, color=_RED, linestyle="--", linewidth=1)
    axes.text(1.0 - threshold, axes.get_ylim()[1] * 0.9, " issue threshold", color=_RED, fontsize=8)
    axes.set_xlabel("label quality (1 − review priority)")
    axes.set_ylabel("tasks")
    if len(quality) and np.ptp(np.histogram(quality, bins=40)[0]) > 50:
        axes.set_yscale("log")
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def _matrix(
    matrix: np.ndarray, rows: Sequence[str], cols: Sequence[str], title: str, label: str
) -> str:
    side = max(3.2, 0.28 * len(cols) + 1.8)
    figure = _figure(side + 0.8, max(2.8, 0.28 * len(rows) + 1.5))
    axes = figure.subplots()
    shown = np.ma.masked_invalid(matrix)
    image = axes.imshow(shown, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(range(len(cols)), _short(cols), rotation=60, ha="right", fontsize=7)
    axes.set_yticks(range(len(rows)), _short(rows), fontsize=7)
    if len(rows) <= 12:
        for (i, j), value in np.ndenumerate(matrix):
            if np.isfinite(value):
                colour = "white" if value > 0.6 else "black"
                axes.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color=colour)
    axes.set_title(title, fontsize=10)
    figure.colorbar(image, ax=axes, shrink=0.8, label=label)
    return _png(figure)


def cooccurrence_heatmap(labels: np.ndarray, names: Sequence[str]) -> str:
    """Multi-label: ``P(column | row)`` over the labelled tasks' ``(n, K)`` 0/1 labels."""
    counts = labels.sum(axis=0)
    keep = np.argsort(-counts, kind="stable")[:MAX_MATRIX]
    sub = labels[:, keep].astype(np.float64)
    joint = sub.T @ sub
    with np.errstate(invalid="ignore", divide="ignore"):
        conditional = joint / np.diag(joint)[:, None]
    shown = [names[k] for k in keep]
    title = "Label co-occurrence: P(column | row)"
    if len(keep) < len(names):
        title += f" ({len(keep)} most frequent classes)"
    return _matrix(conditional, shown, shown, title, "share of row tasks")


def confusion_heatmap(given: np.ndarray, suggested: np.ndarray, names: Sequence[str]) -> str:
    """Single-label: the share of each given class (row) suggested as each class (column)."""
    k = len(names)
    counts = np.bincount(given * k + suggested, minlength=k * k).reshape(k, k).astype(float)
    keep = np.argsort(-counts.sum(axis=1), kind="stable")[:MAX_MATRIX]
    sub = counts[np.ix_(keep, keep)]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = sub / sub.sum(axis=1, keepdims=True)
    shown = [names[i] for i in keep]
    return _matrix(share, shown, shown, "Given (row) vs suggested (column)", "share of row tasks")


def agreement_heatmap(pairwise: np.ndarray, annotators: Sequence[str]) -> str:
    """Mean pairwise agreement (Jaccard) between annotators on their shared tasks."""
    return _matrix(
        pairwise, annotators, annotators, "Pairwise agreement on shared tasks", "mean Jaccard"
    )


def quality_vs_lead_time(
    quality: np.ndarray, lead_time: np.ndarray, n_tasks: np.ndarray, names: Sequence[str]
) -> str:
    """Annotator quality against mean lead time, point size by tasks done."""
    figure = _figure(6.0, 3.2)
    axes = figure.subplots()
    ok = np.isfinite(quality) & np.isfinite(lead_time)
    size = 20 + 180 * np.sqrt(n_tasks / max(float(n_tasks.max(initial=1)), 1.0))
    axes.scatter(lead_time[ok], quality[ok], s=size[ok], color=_BLUE, alpha=0.7)
    for x, y, name in zip(lead_time[ok], quality[ok], np.asarray(names)[ok], strict=True):
        shown = _label(str(name))
        axes.annotate(shown, (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points")
    axes.set_xlabel("mean lead time per task (s)")
    axes.set_ylabel("quality")
    axes.set_ylim(-0.05, 1.05)
    if not ok.any():
        axes.text(0.5, 0.5, "no lead times recorded", ha="center", transform=axes.transAxes)
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)
