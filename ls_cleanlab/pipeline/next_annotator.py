"""Who joins the "Needs another annotator" tab: labelled tasks for which one more annotation is
worth more than a first label usually is.

The value of one more annotation (:func:`ls_cleanlab.annotators.active.annotation_value`, its
``cells``, here from :func:`~ls_cleanlab.annotators.active.annotation_cells`, a block of tasks
at a time) is the expected number of a task's class decisions one more annotation corrects, on
one scale for labelled and unlabelled tasks. The tab holds the labelled tasks whose value is at
least :data:`MIN_VALUE` and at least the median value of a first label on the project's
unlabelled tasks (when it has some): asking for a second opinion there pays more than labelling
a typical new task. Unlabelled tasks have their own tab ("Uncertain (unlabeled)").

The tab is ordered like every tab, by the prediction score (a labelled task's review priority),
which grows with the same doubt; the rows returned here are in decreasing value.
"""

from __future__ import annotations

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators.active import annotation_cells

__all__ = ["MIN_VALUE", "next_annotator_rows"]

#: A labelled task joins the tab when one more annotation is expected to correct at least this
#: many of its class decisions.
MIN_VALUE = 0.1


def next_annotator_rows(
    pred_probs: np.ndarray | None,
    labelled: np.ndarray,
    annotations: Annotations | None,
    *,
    multi_label: bool,
) -> np.ndarray:
    """Rows (task positions) of the "Needs another annotator" tab, most valuable first.

    Parameters
    ----------
    pred_probs : np.ndarray, shape (n, K), or None
        The audit's probabilities: out-of-sample for labelled tasks, the model's for the rest.
    labelled : np.ndarray of bool, shape (n,)
    annotations : Annotations or None
        The audit's annotations (task positions as in ``pred_probs``).
    multi_label : bool

    Without probabilities or annotations the tab is empty.
    """
    if pred_probs is None or annotations is None or not labelled.any():
        return np.zeros(0, dtype=np.int64)
    probs = np.nan_to_num(np.asarray(pred_probs, dtype=np.float64), copy=True)
    np.clip(probs, 0.0, 1.0, out=probs)  # one copy of the (n, K) probabilities, no more
    if not multi_label:
        probs = probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-12)
    value = annotation_cells(probs, annotations, multi_label=multi_label)
    floor = MIN_VALUE
    if (~labelled).any():
        floor = max(floor, float(np.median(value[~labelled])))
    rows = np.flatnonzero(labelled & (value >= floor))
    return rows[np.argsort(-value[rows], kind="stable")]
