"""Metrics and targets of the robustness benchmark (issue 14).

All metrics run over the labelled tasks. A task's consensus is *wrong* when any cell differs
from the truth; it *misses* a label when a true class is absent from it.

* consensus cell accuracy: share of (task, class) cells where the consensus equals the truth;
* tasks left with a wrong consensus after reviewing the top ``share`` of tasks by priority (a
  reviewed task's consensus is fixed to the truth; ties in priority keep task order);
* annotator ranking: Spearman correlation of an annotator quality with the true one;
* ECE: expected calibration error of cell scores read as P(consensus cell wrong), 15
  equal-width bins over all cells (``ece_hi``: only cells scoring at least 0.1, the part that
  decides what is reviewed);
* tabs: a tab holds the tasks with an issue of its kinds; precision is the share of them that
  have the tab's problem, recall the share of tasks with the problem that it holds;
* best reachable tab (a diagnostic, not a target): the task probabilities implied by the cell
  scores (``1 - prod (1 - s)`` over the tab's cells) ranked, the largest ``min(precision,
  recall)`` any threshold on them reaches. Below 0.6, no default threshold can meet the tab
  targets with that ranking: the evidence does not separate the problems.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "ACC_TOLERANCE",
    "ECE_BINS",
    "MIN_ANNOTATORS",
    "MIN_PROBLEMS",
    "REVIEW_SHARES",
    "SPEARMAN_TOLERANCE",
    "TAB_TARGET",
    "best_reachable",
    "cell_accuracy",
    "ece",
    "left_after_review",
    "reliability",
    "spearman",
    "tab_scores",
]

REVIEW_SHARES = (0.10, 0.15)
ECE_BINS = 15
ECE_TARGET = 0.05
TAB_TARGET = 0.6
ACC_TOLERANCE = 0.001 + 1e-9  # 'within 0.001' inclusive: 12 of 12,000 cells is within
#: One adjacent swap among 9 annotators moves Spearman's rho by 0.017.
SPEARMAN_TOLERANCE = 0.02
#: A tab's recall is judged where at least this many tasks have its problem, its precision
#: where it holds at least this many tasks.
MIN_PROBLEMS = 10
#: The annotator ranking is judged with at least this many annotators with a known quality.
MIN_ANNOTATORS = 5


def cell_accuracy(consensus: np.ndarray, truth: np.ndarray, rows: np.ndarray) -> float:
    return float((consensus[rows] == truth[rows]).mean())


def left_after_review(
    consensus: np.ndarray, truth: np.ndarray, priority: np.ndarray, rows: np.ndarray, share: float
) -> int:
    """Tasks (among ``rows``) still wrong after the top ``share`` by priority were fixed."""
    idx = np.flatnonzero(rows)
    wrong = (consensus[idx] != truth[idx]).any(axis=1)
    budget = round(share * len(idx))
    reviewed = np.argsort(-priority[idx], kind="stable")[:budget]
    return int(wrong.sum() - wrong[reviewed].sum())


def ece(scores: np.ndarray, wrong: np.ndarray, bins: int = ECE_BINS, low: float = 0.0) -> float:
    """Expected calibration error of ``scores`` as P(wrong), over cells scoring >= ``low``."""
    s, w = scores.ravel(), wrong.ravel().astype(np.float64)
    keep = s >= low
    s, w = s[keep], w[keep]
    if len(s) == 0:
        return float("nan")
    which = np.minimum((s * bins).astype(np.int64), bins - 1)
    count = np.bincount(which, minlength=bins)
    gap = np.abs(np.bincount(which, weights=s, minlength=bins) - np.bincount(which, w, bins))
    return float(gap.sum() / count.sum())


def reliability(scores: np.ndarray, wrong: np.ndarray, bins: int = ECE_BINS) -> list[list[float]]:
    """Per bin: [count, mean score, error rate] (empty bins left out)."""
    s, w = scores.ravel(), wrong.ravel().astype(np.float64)
    which = np.minimum((s * bins).astype(np.int64), bins - 1)
    out = []
    for b in range(bins):
        m = which == b
        if m.any():
            out.append([int(m.sum()), round(float(s[m].mean()), 4), round(float(w[m].mean()), 4)])
    return out


def spearman(quality: pd.Series | None, reference: pd.Series | None) -> tuple[float, int]:
    """Spearman correlation over the annotators both know; NaN (and the count) when fewer than
    three or either side is constant."""
    from scipy.stats import spearmanr

    if quality is None or reference is None:
        return float("nan"), 0
    q = pd.Series(quality.to_numpy(dtype=np.float64), index=quality.index.astype(str))
    r = pd.Series(reference.to_numpy(dtype=np.float64), index=reference.index.astype(str))
    joined = pd.concat([q.rename("q"), r.rename("r")], axis=1, join="inner").dropna()
    if len(joined) < 3 or joined["q"].nunique() < 2 or joined["r"].nunique() < 2:
        return float("nan"), len(joined)
    return float(spearmanr(joined["q"], joined["r"]).statistic), len(joined)


def tab_scores(flagged: np.ndarray, problem: np.ndarray) -> dict[str, float]:
    """Size, number of real problems, precision and recall of a tab of ``flagged`` tasks."""
    member = np.zeros(len(problem), dtype=bool)
    member[flagged] = True
    hits = int((member & problem).sum())
    size, real = int(member.sum()), int(problem.sum())
    return {
        "size": size,
        "problems": real,
        "precision": hits / size if size else float("nan"),
        "recall": hits / real if real else float("nan"),
    }


def best_reachable(probability: np.ndarray, problem: np.ndarray) -> float:
    """The largest ``min(precision, recall)`` of the tabs ``probability >= t`` over all
    thresholds ``t`` (ties in probability enter together); NaN without problems."""
    real = int(problem.sum())
    if real == 0:
        return float("nan")
    order = np.argsort(-probability, kind="stable")
    p = probability[order]
    hits = np.cumsum(problem[order])
    ends = np.flatnonzero(np.r_[p[1:] != p[:-1], True])  # last row of each run of equal p
    size = ends + 1
    return float(np.max(np.minimum(hits[ends] / size, hits[ends] / real)))
