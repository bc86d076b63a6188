"""Out-of-distribution scores: tasks unlike the rest, whose labels deserve a look for that reason.

Two views, combined by taking the larger:

* **probabilities**: a task the model is unsure about in every class is atypical. The score is the
  mean binary entropy of the task's probabilities (for single-label data, the entropy of the
  distribution), in bits per class;
* **features**, when given: the mean distance to the ``k`` nearest other tasks in feature space
  (the classic kNN outlier score; cleanlab uses the same idea).

Each raw score becomes its empirical percentile in [0, 1]. A task is flagged when its raw score is
far out in the upper tail: a modified z-score (median and MAD on the log scale, Iglewicz &
Hoaglin 1993) above :data:`Z_LIMIT`. On data with no outliers nothing is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ls_cleanlab.annotators.blocks import row_blocks

__all__ = ["OutlierScores", "outlier_scores"]

#: Modified z-score above which a task is flagged.
Z_LIMIT = 3.5
#: Neighbours in the kNN distance.
NEIGHBOURS = 10


@dataclass(frozen=True)
class OutlierScores:
    """Arrays of shape ``(n,)``: ``score`` in [0, 1] (percentile), ``flagged`` bool, ``source``
    (``"model"`` or ``"features"``, which view flagged or scored highest)."""

    score: np.ndarray
    flagged: np.ndarray
    source: np.ndarray


def _percentile(raw: np.ndarray) -> np.ndarray:
    ranks = np.argsort(np.argsort(raw, kind="stable"), kind="stable")
    return (ranks + 1) / len(raw)


def _far_out(raw: np.ndarray) -> np.ndarray:
    logged = np.log(np.maximum(raw, 1e-12))
    median = np.median(logged)
    deviation = np.abs(logged - median)
    mad = np.median(deviation)
    if mad > 0:
        return 0.6745 * (logged - median) / mad > Z_LIMIT
    # most values equal: the mean absolute deviation stands in (scaled to match the MAD's
    # consistency with the normal's spread)
    mean_ad = deviation.mean()
    if mean_ad == 0:
        return np.zeros(len(raw), dtype=bool)
    return (logged - median) / (1.2533 * mean_ad) > Z_LIMIT


def _entropy(pred_probs: np.ndarray, single_label: bool) -> np.ndarray:
    """``(n,)`` entropy of each row, a block of rows at a time."""
    out = np.empty(len(pred_probs))
    for rows in row_blocks(len(pred_probs), pred_probs.shape[1]):
        out[rows] = _row_entropy(pred_probs[rows], single_label)
    return out


def _row_entropy(pred_probs: np.ndarray, single_label: bool) -> np.ndarray:
    p = np.clip(pred_probs, 1e-12, 1.0)
    if single_label:
        return -(p * np.log2(p)).sum(axis=1)
    q = np.clip(1 - pred_probs, 1e-12, 1.0)
    return -(p * np.log2(p) + q * np.log2(q)).mean(axis=1)


def _knn_distance(features: np.ndarray) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    k = min(NEIGHBOURS, len(features) - 1)
    if k < 1:
        return np.zeros(len(features))
    index = NearestNeighbors(n_neighbors=k + 1).fit(features)
    distance, _ = index.kneighbors(features)
    return distance[:, 1:].mean(axis=1)


def outlier_scores(
    pred_probs: np.ndarray | None,
    features: np.ndarray | None = None,
    *,
    single_label: bool = False,
) -> OutlierScores:
    """Score how atypical each task is, from probabilities and/or features (one is required).

    Parameters
    ----------
    pred_probs : ndarray, shape (n, K), optional
    features : ndarray, shape (n, d), optional
        Finite numbers; standardize them first if their scales differ.
    single_label : bool
        ``pred_probs`` rows are distributions over classes.
    """
    views: list[tuple[str, np.ndarray]] = []
    if pred_probs is not None:
        views.append(("model", _entropy(pred_probs, single_label)))
    if features is not None:
        views.append(("features", _knn_distance(features)))
    if not views:
        raise ValueError("outlier_scores needs pred_probs or features")
    percentiles = np.stack([_percentile(raw) for _, raw in views])
    flags = np.stack([_far_out(raw) for _, raw in views])
    names = np.array([name for name, _ in views], dtype=object)
    # report the view that flagged, else the one with the higher percentile
    best = np.argmax(percentiles + 2.0 * flags, axis=0)
    return OutlierScores(
        score=percentiles.max(axis=0), flagged=np.asarray(flags.any(axis=0)), source=names[best]
    )
