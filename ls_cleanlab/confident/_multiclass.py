"""Confident learning for single-label data: one label per example out of K classes.

The per-example work is vectorized over all examples; what remains per class is a partition
(linear time) of that class's examples instead of cleanlab's full sorts, with cleanlab's own
``np.argsort`` used only where ties at a cut make its order matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ls_cleanlab.confident._numeric import (
    MIN_THRESHOLD,
    MISSING_THRESHOLD,
    NUDGE,
    select_smallest,
)


@dataclass(frozen=True)
class SingleData:
    """Validated single-label inputs: ``labels`` ``(N,)`` intp, ``probs`` ``(N, K)`` float64."""

    labels: np.ndarray
    probs: np.ndarray

    @property
    def k(self) -> int:
        return int(self.probs.shape[1])

    @cached_property
    def label_counts(self) -> np.ndarray:
        """``(K,)`` number of examples given each class."""
        return np.bincount(self.labels, minlength=self.k).astype(np.int64)

    @cached_property
    def members(self) -> list[np.ndarray]:
        """Indices of the examples given each class, in index order."""
        order = np.argsort(self.labels, kind="stable")
        ends = np.cumsum(self.label_counts)
        return np.split(order, ends[:-1])


def thresholds(data: SingleData) -> np.ndarray:
    """Per-class confident thresholds ``(K,)``: mean self-confidence of the examples given k."""
    self_conf = data.probs[np.arange(len(data.labels)), data.labels]
    out = np.full(data.k, MISSING_THRESHOLD)
    for k, rows in enumerate(data.members):
        if len(rows):
            out[k] = np.mean(self_conf[rows])
    return np.clip(out, MIN_THRESHOLD, None)


def confident_joint(data: SingleData, thresh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Uncalibrated confident joint ``(K, K)`` ``[given, true]`` and its off-diagonal examples.

    The diagonal is raised to at least 1, as cleanlab does. The matrix is returned as the
    transpose of a ``[true, given]`` count matrix, the memory layout cleanlab's later sums see.
    """
    probs, labels, k = data.probs, data.labels, data.k
    confident = probs >= thresh - NUDGE
    n_confident = confident.sum(axis=1)
    guess = np.where(n_confident > 1, probs.argmax(axis=1), confident.argmax(axis=1))
    rows = np.flatnonzero(n_confident > 0)
    true_label, given = guess[rows], labels[rows]
    if len(rows) == 0:
        cj = np.zeros((k, k), dtype=np.int64)
    else:
        cj = np.bincount(true_label * k + given, minlength=k * k).reshape(k, k).T
    np.fill_diagonal(cj, cj.diagonal().clip(min=1))
    return cj, rows[true_label != given]


def explained(data: SingleData) -> np.ndarray:
    """True where the model's argmax, nudged toward the given label, equals the given label."""
    nudged = data.probs.copy()
    nudged[np.arange(len(data.labels)), data.labels] += NUDGE
    return nudged.argmax(axis=1) == data.labels


def prune(
    data: SingleData, prune_count: np.ndarray, *, min_examples_per_class: int, by_class: bool
) -> np.ndarray:
    """Flag examples per given class from the prune-count matrix ``[true, given]``.

    ``by_class``: the ``n_k - prune_count[k, k]`` examples given ``k`` with the lowest
    probability of ``k``. Otherwise (prune by noise rate): for each other class ``j``, the
    ``prune_count[j, k]`` examples given ``k`` with the largest margin ``p_j - p_k``.
    Classes with ``min_examples_per_class`` examples or fewer are left alone.
    """
    mask = np.zeros(len(data.labels), dtype=np.bool_)
    for k, rows in enumerate(data.members):
        if len(rows) <= max(min_examples_per_class, 1):
            continue
        probs = data.probs[rows]
        if by_class:
            flagged = select_smallest(probs[:, k], int(len(rows) - prune_count[k, k]))
        else:
            flagged = np.zeros(len(rows), dtype=np.bool_)
            for j in np.flatnonzero(prune_count[:, k] > 0):
                if j != k:
                    margin = probs[:, j] - probs[:, k]
                    flagged |= select_smallest(-margin, int(prune_count[j, k]))
        mask[rows] = flagged
    return mask
