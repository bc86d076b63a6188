"""Score images and boxes of an object detection data set by how likely their labels are wrong.

cleanlab 2.9.0's ``cleanlab.object_detection.rank`` API (ObjectLab), same signatures and the same
numbers, computed for all images at once with numpy instead of per box in Python. The math is in
:mod:`._objectlab`, the geometry in :mod:`._geometry`.

cleanlab's quirks, kept for parity (each also noted where it applies):

* Similarity is ``alpha IoU + (1 - alpha)(1 - (1 - closeness))`` with the centre distance's norm
  through BLAS ``ddot``; both change last bits, and are reproduced.
* ``s_min``, the floor of overlooked and swapped scores, is the smallest non-zero similarity of
  the whole data set, so one image's scores depend on the others.
* A confident predicted box touching a given box of *any* class (IoU > 0) gets no overlooked
  score; a class with no given box in the image scores ``s_min (1 - confidence)``.
* Overlooked boxes need confidence ``>=`` the threshold, swapped ones ``>`` it.
* A given box no confident same-class prediction overlaps has badly-located score 1 (it is
  never flagged); one nearly coinciding (IoU >= 0.95) with a given box of another class gets
  swapped score ``s_min``.
* ``get_label_quality_scores`` drops predictions of negative confidence (none here: they are
  rejected); ``issues_from_scores`` keeps scores ``<= threshold`` and orders ties by numpy's
  default, unstable, sort.
* With ``auxiliary_inputs``, only the badly-located score reads a given ``iou_matrix``, and
  ``alpha`` only matters where no ``similarity_matrix`` is given.

Where cleanlab and this module differ, on purpose:

* Inputs are checked first: NaN or infinite coordinates, boxes with ``x2 < x1`` or ``y2 < y1``
  (often x, y, width, height by mistake), confidences outside [0, 1], class indices outside
  ``[0, K)`` and images with a different number of class arrays raise
  :class:`~ls_cleanlab.errors.InvalidLabelsError` or
  :class:`~ls_cleanlab.errors.InvalidPredProbsError` naming the image and the field. cleanlab
  accepts them and returns meaningless scores (or fails deep inside).
* Coordinates are computed in float64. cleanlab keeps the given boxes in their own dtype, so
  for float32 boxes its results differ from these by float32 rounding.
* An empty data set gives empty results (cleanlab raises ``IndexError``); nothing is printed
  (``verbose`` is accepted and ignored); no process pool is started.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ls_cleanlab.detection import _objectlab
from ls_cleanlab.detection._boxes import (
    FlatBoxes,
    check_label_classes,
    check_labels,
    check_predictions,
)
from ls_cleanlab.detection._constants import (
    HIGH_PROBABILITY_THRESHOLD,
    LOW_PROBABILITY_THRESHOLD,
    TEMPERATURE,
    TINY_VALUE,
)
from ls_cleanlab.detection._objectlab import Pairs
from ls_cleanlab.detection._options import (
    check_positive,
    check_unit,
    check_weights,
    default_alpha,
    from_auxiliary,
)
from ls_cleanlab.errors import InvalidOptionError

__all__ = [
    "compute_badloc_box_scores",
    "compute_overlooked_box_scores",
    "compute_swap_box_scores",
    "get_label_quality_scores",
    "issues_from_scores",
    "pool_box_scores_per_image",
]


@dataclass(frozen=True, eq=False)
class ScoringData:
    """Checked inputs of the box scores: the boxes, their pairs and ``s_min`` per image.

    ``box_iou`` is the IoU computed from the boxes (what the overlooked and swapped scores read);
    ``given_iou`` is what the badly-located score reads (the same, except with cleanlab's
    ``auxiliary_inputs`` carrying their own IoU matrices).
    """

    labels: FlatBoxes
    preds: FlatBoxes
    pairs: Pairs
    given_iou: np.ndarray
    s_min: np.ndarray
    n_classes: int


def prepare(labels: Any, predictions: Any, alpha: float) -> ScoringData:
    """Check cleanlab-style ``labels`` and ``predictions`` and compute every box pair."""
    flat_labels = check_labels(labels)
    preds, n_classes = check_predictions(predictions, n_images=flat_labels.n_images)
    if n_classes:
        check_label_classes(flat_labels, n_classes)
    pairs = _objectlab.pair_table(flat_labels, preds, alpha)
    s_min = np.full(flat_labels.n_images, _objectlab.min_similarity(pairs.similarity))
    return ScoringData(flat_labels, preds, pairs, pairs.iou, s_min, n_classes)


def _data(labels: Any, predictions: Any, alpha: Any, auxiliary_inputs: Any) -> ScoringData:
    alpha = default_alpha(alpha)
    if auxiliary_inputs is not None:
        aux = from_auxiliary(auxiliary_inputs, alpha)
        return ScoringData(aux.labels, aux.preds, aux.pairs, aux.given_iou, aux.s_min, 0)
    if labels is None or predictions is None:
        raise InvalidOptionError("pass labels and predictions, or auxiliary_inputs; got neither.")
    return prepare(labels, predictions, alpha)


def overlooked(data: ScoringData, high_probability_threshold: float) -> np.ndarray:
    return _objectlab.overlooked_scores(
        data.labels, data.preds, data.pairs, data.pairs.iou, data.s_min,
        high_probability_threshold,
    )  # fmt: skip


def badloc(data: ScoringData, low_probability_threshold: float) -> np.ndarray:
    return _objectlab.badloc_scores(
        data.labels, data.preds, data.pairs, data.given_iou, low_probability_threshold
    )


def swap(
    data: ScoringData, high_probability_threshold: float, overlapping_label_check: bool
) -> np.ndarray:
    return _objectlab.swap_scores(
        data.labels, data.preds, data.pairs, data.s_min, high_probability_threshold,
        bool(overlapping_label_check),
    )  # fmt: skip


def quality_scores(
    data: ScoringData, weights: Mapping[str, float], overlapping_label_check: bool
) -> np.ndarray:
    """(N,) image label quality: the weighted geometric mean of the three pooled subscores."""
    pooled_overlooked = _objectlab.softmin_pool(
        overlooked(data, HIGH_PROBABILITY_THRESHOLD), data.preds.offsets, TEMPERATURE
    )
    pooled_badloc = _objectlab.softmin_pool(
        badloc(data, LOW_PROBABILITY_THRESHOLD), data.labels.offsets, TEMPERATURE
    )
    pooled_swap = _objectlab.softmin_pool(
        swap(data, HIGH_PROBABILITY_THRESHOLD, overlapping_label_check),
        data.labels.offsets,
        TEMPERATURE,
    )
    log_score = (
        weights["overlooked"] * np.log(TINY_VALUE + pooled_overlooked)
        + weights["badloc"] * np.log(TINY_VALUE + pooled_badloc)
        + weights["swap"] * np.log(TINY_VALUE + pooled_swap)
    )
    return np.exp(log_score)


def get_label_quality_scores(
    labels: Sequence[Mapping[str, Any]],
    predictions: Sequence[Any],
    *,
    aggregation_weights: Mapping[str, float] | None = None,
    overlapping_label_check: bool | None = True,
    verbose: bool = True,
) -> np.ndarray:
    """Label quality score of each image, in [0, 1]; lower means more likely mislabeled.

    The score is ``exp(sum_t w_t log(1e-100 + S_t))`` over the three pooled subscores ``S_t``:
    overlooked boxes, swapped classes and badly located boxes (see :mod:`._objectlab`).

    Parameters
    ----------
    labels : list of N dicts
        ``labels[i] = {"bboxes": (L, 4) x1, y1, x2, y2, "labels": (L,) class indices}``.
    predictions : list of N lists of K arrays
        ``predictions[i][k]`` of shape ``(M, 5)``: x1, y1, x2, y2 and the confidence that the
        box holds an object of class ``k``; out-of-sample for meaningful scores.
    aggregation_weights : dict, optional
        Non-negative weights summing to 1 under keys ``"overlooked"``, ``"swap"`` and
        ``"badloc"``; by default 1/3 each.
    overlapping_label_check : bool, default True
        Score a given box that nearly coincides (IoU >= 0.95) with a given box of another
        class as swapped (``s_min``).
    verbose : bool
        Accepted for compatibility; nothing is printed (cleanlab prints how many predictions
        it pruned below confidence 0, which valid input never has).

    Returns
    -------
    ndarray of float64, shape (N,)

    Raises
    ------
    InvalidLabelsError, InvalidPredProbsError, InvalidOptionError
    """
    weights = check_weights(aggregation_weights)
    data = prepare(labels, predictions, default_alpha(None))
    return quality_scores(data, weights, bool(overlapping_label_check))


def issues_from_scores(label_quality_scores: Any, *, threshold: float = 0.1) -> np.ndarray:
    """Indices of images whose score is at most ``threshold``, worst first.

    Ties keep the order of ``np.argsort`` (numpy's default sort, not stable), as in cleanlab.

    Parameters
    ----------
    label_quality_scores : array_like, shape (N,)
    threshold : float, at most 1

    Returns
    -------
    ndarray of int64, shape (n_issues,)
    """
    scores = np.asarray(label_quality_scores)
    if scores.ndim != 1 or scores.dtype.kind not in "iuf":
        raise InvalidOptionError(
            f"label_quality_scores must be a 1-D array of numbers, got shape {scores.shape} "
            f"and dtype {scores.dtype}."
        )
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)):
        raise InvalidOptionError(f"threshold must be a number, got {threshold!r}.")
    if threshold > 1.0:
        raise InvalidOptionError(
            f"threshold is a cutoff of label quality scores and must be at most 1, got "
            f"{threshold!r}."
        )
    issue_indices = np.argwhere(scores <= threshold).flatten()
    return issue_indices[scores[issue_indices].argsort()]


def compute_overlooked_box_scores(
    *,
    labels: Sequence[Mapping[str, Any]] | None = None,
    predictions: Sequence[Any] | None = None,
    alpha: float | None = None,
    high_probability_threshold: float | None = None,
    auxiliary_inputs: Sequence[Mapping[str, Any]] | None = None,
) -> list[np.ndarray]:
    """Per predicted box, how likely it is *not* an object the annotator overlooked.

    Lower is more likely overlooked. A box gets NaN unless its confidence is at least
    ``high_probability_threshold`` and it overlaps no given box of any class (cleanlab's rule:
    a confident box of class ``k`` touching a given box of another class is not scored).

    Parameters
    ----------
    labels, predictions
        As for :func:`get_label_quality_scores`.
    alpha : float in [0, 1], default 0.9
        Weight of IoU against centre distance in the similarity.
    high_probability_threshold : float in [0, 1], default 0.95
    auxiliary_inputs : list of N dicts, optional
        cleanlab's precomputed per-image parts (``lab_bboxes``, ``lab_labels``,
        ``pred_bboxes``, ``pred_labels``, ``pred_label_probs`` and optionally
        ``similarity_matrix``, ``iou_matrix``, ``min_possible_similarity``), used instead of
        ``labels`` and ``predictions``. As in cleanlab, this score recomputes IoU from the
        boxes (a given ``iou_matrix`` is ignored), ``alpha`` only applies where no
        ``similarity_matrix`` is given, and without ``min_possible_similarity`` each image
        uses its own smallest non-zero similarity (1.0 when all are 0, where cleanlab raises).

    Returns
    -------
    list of N ndarrays of float64, shape (M_i,)
        Boxes in the order of ``predictions[i]``, class by class.
    """
    threshold = check_unit(
        "high_probability_threshold", high_probability_threshold, HIGH_PROBABILITY_THRESHOLD
    )
    data = _data(labels, predictions, alpha, auxiliary_inputs)
    return data.preds.split(overlooked(data, threshold))


def compute_badloc_box_scores(
    *,
    labels: Sequence[Mapping[str, Any]] | None = None,
    predictions: Sequence[Any] | None = None,
    alpha: float | None = None,
    low_probability_threshold: float | None = None,
    auxiliary_inputs: Sequence[Mapping[str, Any]] | None = None,
) -> list[np.ndarray]:
    """Per given box, how likely its location is right; lower is more likely badly located.

    The best similarity to a predicted box of the same class with confidence above
    ``low_probability_threshold`` (default 0.5) that overlaps it; 1 when there is none (a box
    far from every prediction is *not* flagged, cleanlab's rule). With ``auxiliary_inputs``
    (see :func:`compute_overlooked_box_scores`) a given ``iou_matrix`` decides the overlap.

    Returns
    -------
    list of N ndarrays of float64, shape (L_i,)
    """
    threshold = check_unit(
        "low_probability_threshold", low_probability_threshold, LOW_PROBABILITY_THRESHOLD
    )
    data = _data(labels, predictions, alpha, auxiliary_inputs)
    return data.labels.split(badloc(data, threshold))


def compute_swap_box_scores(
    *,
    labels: Sequence[Mapping[str, Any]] | None = None,
    predictions: Sequence[Any] | None = None,
    alpha: float | None = None,
    high_probability_threshold: float | None = None,
    overlapping_label_check: bool | None = True,
    auxiliary_inputs: Sequence[Mapping[str, Any]] | None = None,
) -> list[np.ndarray]:
    """Per given box, how likely its class is right; lower is more likely swapped.

    ``max(s_min, 1 - s)`` with ``s`` the best similarity to a predicted box of another class
    with confidence above ``high_probability_threshold`` (strictly, where the overlooked score
    uses at least: cleanlab's asymmetry, kept); 1 when there is none; ``s_min`` for a
    conflicting annotation when ``overlapping_label_check``.

    Returns
    -------
    list of N ndarrays of float64, shape (L_i,)
    """
    threshold = check_unit(
        "high_probability_threshold", high_probability_threshold, HIGH_PROBABILITY_THRESHOLD
    )
    data = _data(labels, predictions, alpha, auxiliary_inputs)
    return data.labels.split(swap(data, threshold, bool(overlapping_label_check)))


def pool_box_scores_per_image(
    box_scores: Sequence[Any], *, temperature: float | None = None
) -> np.ndarray:
    """Softmin of each image's box scores (NaN ignored), 1.0 for images without any.

    Parameters
    ----------
    box_scores : list of N 1-D arrays
    temperature : float > 0, default 0.1
        Lower acts more like the minimum, higher more like the mean.

    Returns
    -------
    ndarray of float64, shape (N,)
    """
    temperature = check_positive("temperature", temperature, TEMPERATURE)
    if isinstance(box_scores, (str, bytes, Mapping)) or not hasattr(box_scores, "__len__"):
        raise InvalidOptionError("box_scores must be a list of per-image 1-D arrays.")
    arrays = [np.asarray(s, dtype=np.float64).reshape(-1) for s in box_scores]
    for i, array in enumerate(arrays):
        if np.isinf(array).any():
            raise InvalidOptionError(f"box_scores[{i}] holds an infinite value.")
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([len(a) for a in arrays], out=offsets[1:])
    flat = np.concatenate(arrays) if arrays else np.zeros(0)
    return _objectlab.softmin_pool(flat, offsets, temperature)
