"""ObjectLab's box scores (Tkachenko et al. 2023), vectorized over all images.

ObjectLab scores the given boxes of an image against a detector's predicted boxes through the
similarity ``s = alpha IoU + (1 - alpha) exp(-0.1 ||c_given - c_pred||)`` (see
:mod:`._geometry`). With ``s_min`` the smallest non-zero similarity of the data set, for a
predicted box ``j`` of class ``k`` and confidence ``p_j``, and a given box ``i`` of class ``k``:

* overlooked (per predicted box): undefined (NaN) unless ``p_j >= t_high`` and ``j`` overlaps
  no given box; then ``max_i s_ij`` over given boxes of class ``k``, or ``s_min (1 - p_j)`` when
  the image has none;
* badly located (per given box): ``max_j s_ij`` over predicted boxes of class ``k`` with
  ``p_j > t_low`` that overlap it, or 1 when there are none;
* swapped (per given box): ``max(s_min, 1 - max_j s_ij)`` over predicted boxes of another class
  with ``p_j > t_high``, or 1 when there are none; ``s_min`` when the box is a conflicting
  annotation (another given box of another class with IoU >= 0.95);

and an image's subscore is the softmin (temperature ``T``) of its defined box scores, or 1.

Every function takes the flat arrays of :mod:`._boxes` and assumes valid input. Results equal
cleanlab 2.9.0's bit for bit (tests/detection/test_parity.py).

Reference: U. Tkachenko, A. Thyagarajan, J. Mueller, "ObjectLab: Automated Diagnosis of
Mislabeled Images in Object Detection Data", ICML workshop on data-centric ML, 2023.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ls_cleanlab.detection._boxes import FlatBoxes
from ls_cleanlab.detection._constants import EPSILON, LABEL_OVERLAP_THRESHOLD
from ls_cleanlab.detection._geometry import (
    block_pairs,
    closeness,
    iou,
    segment_any,
    segment_max,
    similarity,
)

__all__ = [
    "Pairs",
    "badloc_scores",
    "conflicting_labels",
    "min_similarity",
    "overlooked_scores",
    "pair_table",
    "softmin_pool",
    "swap_scores",
]


@dataclass(frozen=True, eq=False)
class Pairs:
    """Every (given box, predicted box) pair of the same image, image by image.

    Attributes
    ----------
    label, pred : ndarray of int64, shape (P,)
        Global indices of the given and the predicted box.
    offsets : ndarray of int64, shape (N + 1,)
        Image ``i`` holds pairs ``offsets[i]:offsets[i + 1]``: the row-major flattening of its
        ``(L_i, M_i)`` matrix.
    iou, similarity : ndarray of float64, shape (P,)
    """

    label: np.ndarray
    pred: np.ndarray
    offsets: np.ndarray
    iou: np.ndarray
    similarity: np.ndarray


def pair_table(labels: FlatBoxes, preds: FlatBoxes, alpha: float) -> Pairs:
    """IoU and similarity of every (given, predicted) pair of boxes of the same image."""
    rows, cols, offsets = block_pairs(labels.offsets, preds.offsets)
    given, predicted = labels.boxes[rows], preds.boxes[cols]
    overlap = iou(given, predicted)
    sim = similarity(overlap, closeness(given, predicted), alpha)
    return Pairs(label=rows, pred=cols, offsets=offsets, iou=overlap, similarity=sim)


def min_similarity(sim: np.ndarray) -> float:
    """Smallest non-zero similarity, or 1.0 when there is none (cleanlab's ``s_min``)."""
    nonzero = sim[sim != 0]
    return float(min(1.0, nonzero.min())) if len(nonzero) else 1.0


def per_image_min_similarity(sim: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(N,) smallest non-zero similarity within each image, 1.0 where there is none."""
    image = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    out = np.ones(len(offsets) - 1)
    keep = sim != 0
    np.minimum.at(out, image[keep], sim[keep])
    return out


def overlooked_scores(
    labels: FlatBoxes,
    preds: FlatBoxes,
    pairs: Pairs,
    overlap: np.ndarray,
    s_min: np.ndarray,
    high_probability_threshold: float,
) -> np.ndarray:
    """(M,) overlooked score per predicted box, NaN where undefined.

    ``overlap`` is the IoU of each pair used to decide whether a predicted box touches a given
    box; ``s_min`` is the (N,) per-image floor of similarities.
    """
    assert preds.confidence is not None
    size = len(preds.classes)
    conf = preds.confidence
    touched = segment_any(pairs.pred[overlap > 0], size)
    same = labels.classes[pairs.label] == preds.classes[pairs.pred]
    has_same = segment_any(pairs.pred[same], size)
    best = segment_max(pairs.pred[same], pairs.similarity[same], size)
    scores = np.where(has_same, best, s_min[preds.image] * (1 - conf))
    scores[(conf < high_probability_threshold) | touched] = np.nan
    return scores


def badloc_scores(
    labels: FlatBoxes,
    preds: FlatBoxes,
    pairs: Pairs,
    overlap: np.ndarray,
    low_probability_threshold: float,
) -> np.ndarray:
    """(L,) badly-located score per given box."""
    assert preds.confidence is not None
    size = len(labels.classes)
    conf = preds.confidence[pairs.pred]
    keep = (
        (labels.classes[pairs.label] == preds.classes[pairs.pred])
        & (conf > low_probability_threshold)
        & (overlap > 0)
    )
    has = segment_any(pairs.label[keep], size)
    best = segment_max(pairs.label[keep], pairs.similarity[keep], size)
    return np.where(has, best, 1.0)


def conflicting_labels(labels: FlatBoxes) -> np.ndarray:
    """(L,) whether a given box nearly coincides (IoU >= 0.95) with one of another class."""
    rows, cols, _ = block_pairs(labels.offsets, labels.offsets)
    keep = (rows != cols) & (labels.classes[rows] != labels.classes[cols])
    rows, cols = rows[keep], cols[keep]
    close = iou(labels.boxes[rows], labels.boxes[cols]) >= LABEL_OVERLAP_THRESHOLD
    return segment_any(rows[close], len(labels.classes))


def swap_scores(
    labels: FlatBoxes,
    preds: FlatBoxes,
    pairs: Pairs,
    s_min: np.ndarray,
    high_probability_threshold: float,
    overlapping_label_check: bool,
) -> np.ndarray:
    """(L,) swapped-class score per given box."""
    assert preds.confidence is not None
    size = len(labels.classes)
    keep = (labels.classes[pairs.label] != preds.classes[pairs.pred]) & (
        preds.confidence[pairs.pred] > high_probability_threshold
    )
    has = segment_any(pairs.label[keep], size)
    best = segment_max(pairs.label[keep], pairs.similarity[keep], size)
    floor = s_min[labels.image]
    scores = np.where(has, np.maximum(floor, 1 - np.where(has, best, 0.0)), 1.0)
    if overlapping_label_check:
        conflict = conflicting_labels(labels)
        scores[conflict] = floor[conflict]
    return scores


def softmin_pool(scores: np.ndarray, offsets: np.ndarray, temperature: float) -> np.ndarray:
    """(N,) softmin of each image's defined (non-NaN) box scores, 1.0 where there are none.

    ``softmin(s) = sum_i s_i softmax(-s / T)_i``, evaluated as cleanlab does (shift by the max,
    ``np.sum`` of the exponentials, ``np.dot`` with the scores). Images are batched by how many
    defined scores they have, so each row is reduced exactly as cleanlab reduces the 1-D array.
    """
    n_images = len(offsets) - 1
    image = np.repeat(np.arange(n_images), np.diff(offsets))
    defined = ~np.isnan(scores)
    values, image = scores[defined], image[defined]
    counts = np.bincount(image, minlength=n_images)
    starts = np.zeros(n_images, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    out = np.ones(n_images)
    for size in np.unique(counts[counts > 0]):
        members = np.flatnonzero(counts == size)
        block = values[starts[members, None] + np.arange(size)]
        shifted = (-1 * block) / max(temperature, EPSILON)
        shifted = shifted - np.max(shifted, axis=1, keepdims=True)
        weights = np.exp(shifted)
        weights = weights / np.sum(weights, axis=1, keepdims=True)
        out[members] = np.matmul(weights[:, None, :], block[:, :, None])[:, 0, 0]
    return out
