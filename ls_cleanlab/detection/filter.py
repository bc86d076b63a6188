"""Find the images of an object detection data set whose labels are likely wrong.

cleanlab 2.9.0's ``cleanlab.object_detection.filter.find_label_issues``, same signature and
results, vectorized over images (see :mod:`.rank` for what differs on purpose: input checks,
float64 coordinates, no process pool, nothing printed).

cleanlab's quirks, kept for parity:

* The per-class thresholds come from a COCO-style mAP (:mod:`._average_precision`) whose
  matching does not fall back to a prediction's second-best given box, whose ties in
  confidence follow numpy's unstable default sort, and whose arithmetic mixes float32 and
  float64 exactly as cleanlab's.
* Overlooked boxes are compared with the threshold of their predicted class, the other kinds
  with the given class's; undefined (NaN) overlooked scores count as 1, never an issue.
* With ``return_indices_ranked_by_score`` the ranking scores use ``overlapping_label_check=True``
  whatever was passed, and images scoring above 1.0 (none in practice) would be left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ls_cleanlab.detection import rank
from ls_cleanlab.detection._average_precision import class_average_precision
from ls_cleanlab.detection._constants import (
    ALPHA,
    BADLOC_THRESHOLD_FACTOR,
    HIGH_PROBABILITY_THRESHOLD,
    LOW_PROBABILITY_THRESHOLD,
    OVERLOOKED_THRESHOLD_FACTOR,
    SWAP_THRESHOLD_FACTOR,
)
from ls_cleanlab.detection._options import check_weights

__all__ = ["find_label_issues"]


def _flagged_images(
    scores: np.ndarray, image: np.ndarray, thresholds: np.ndarray, n_images: int
) -> np.ndarray:
    """(N,) whether any box of the image scores at most its threshold (NaN counts as 1)."""
    scores = np.where(np.isnan(scores), 1.0, scores)
    return np.bincount(image[scores <= thresholds], minlength=n_images) > 0


def find_label_issues(
    labels: Sequence[Mapping[str, Any]],
    predictions: Sequence[Any],
    *,
    return_indices_ranked_by_score: bool | None = False,
    overlapping_label_check: bool | None = True,
) -> np.ndarray:
    """Flag images where any box looks overlooked, swapped or badly located.

    A box is an issue when its score (see :mod:`.rank`) is at most 0.8 times its class's
    threshold, ``0.25 * mAP@[.5:.95]`` of the predictions against the given boxes of that
    class (float32, as in cleanlab); overlooked boxes use the predicted class, the others the
    given class. An image without boxes of a kind has no issue of that kind.

    Parameters
    ----------
    labels, predictions
        As for :func:`~ls_cleanlab.detection.rank.get_label_quality_scores`.
    return_indices_ranked_by_score : bool, default False
        Return the indices of flagged images, worst label quality score first, instead of a
        mask. As in cleanlab, the ranking scores use ``overlapping_label_check=True`` whatever
        this function was given, and ties keep ``np.argsort``'s order.
    overlapping_label_check : bool, default True
        Treat a given box nearly coinciding with one of another class as swapped.

    Returns
    -------
    ndarray
        ``(N,)`` bool mask, or ``(n_issues,)`` int64 indices.

    Raises
    ------
    InvalidLabelsError, InvalidPredProbsError
    """
    data = rank.prepare(labels, predictions, ALPHA)
    n_images = data.labels.n_images
    ap = class_average_precision(data.labels, data.preds, data.pairs, data.n_classes)
    overlooked = rank.overlooked(data, HIGH_PROBABILITY_THRESHOLD)
    badloc = rank.badloc(data, LOW_PROBABILITY_THRESHOLD)
    swap = rank.swap(data, HIGH_PROBABILITY_THRESHOLD, bool(overlapping_label_check))
    pred_threshold = ap[data.preds.classes] * OVERLOOKED_THRESHOLD_FACTOR
    is_issue = (
        _flagged_images(overlooked, data.preds.image, pred_threshold, n_images)
        | _flagged_images(
            badloc,
            data.labels.image,
            ap[data.labels.classes] * BADLOC_THRESHOLD_FACTOR,
            n_images,
        )
        | _flagged_images(
            swap, data.labels.image, ap[data.labels.classes] * SWAP_THRESHOLD_FACTOR, n_images
        )
    )
    if not return_indices_ranked_by_score:
        return is_issue
    scores = rank.quality_scores(data, check_weights(None), True)
    ranked = rank.issues_from_scores(scores, threshold=1.0)
    return ranked[is_issue[ranked]]
