"""The expected Jaccard index of a label set against an uncertain multi-label truth.

Private helper of :mod:`.calibrated` (annotator quality, multi-label); assumes valid input.
"""

from __future__ import annotations

import numpy as np

from ls_cleanlab.annotators.estep import sigmoid

__all__ = ["expected_jaccard", "jaccard_cells", "jaccard_rows"]

EPS = 1e-6


def expected_jaccard(labels: np.ndarray, logit: np.ndarray) -> np.ndarray:
    """``(R,)`` expected Jaccard index between the sets ``labels`` ``(R, K)`` and a truth whose
    cells are independently present with log-odds ``logit`` ``(R, K)``, approximated by the
    ratio of the expected intersection and union; two empty sets agree perfectly (that event is
    added to both)."""
    return jaccard_rows(labels, logit, np.arange(len(labels)))


def jaccard_rows(labels: np.ndarray, logit: np.ndarray, task: np.ndarray) -> np.ndarray:
    """:func:`expected_jaccard` of the sets ``labels`` ``(A, K)`` against the rows ``task`` of
    ``logit`` ``(U, K)``, touching each task's row once and each set's present cells only."""
    none = np.exp(-np.logaddexp(0.0, logit).sum(axis=1))  # P(truth empty)
    return jaccard_cells(labels, sigmoid(logit), none, task)


def jaccard_cells(
    labels: np.ndarray, t: np.ndarray, none: np.ndarray, task: np.ndarray
) -> np.ndarray:
    """:func:`jaccard_rows` from the probabilities ``t`` ``(U, K)`` that each class is present
    and ``none`` ``(U,)`` that no class is."""
    expected = t.sum(axis=1)[task]  # E|truth|
    rows, cols = np.nonzero(labels)
    inter = np.bincount(rows, weights=t[task[rows], cols], minlength=len(labels))
    size = np.bincount(rows, minlength=len(labels))
    union = size + expected - inter
    both_empty = np.where(size == 0, none[task], 0.0)
    return (inter + both_empty) / np.maximum(union + both_empty, EPS)
