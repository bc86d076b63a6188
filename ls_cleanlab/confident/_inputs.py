"""The confident core's inputs, validated once at its public edge into the engines' data types.

The checks themselves are :mod:`ls_cleanlab.validation`'s, shared with the rest of the package;
this module only packs valid arrays into :class:`BinaryData` (multi-label) or :class:`SingleData`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ls_cleanlab.confident._binary import BinaryData
from ls_cleanlab.confident._multiclass import SingleData
from ls_cleanlab.errors import InvalidLabelsError, InvalidPredProbsError
from ls_cleanlab.validation import as_multilabel, as_pred_probs, as_single_labels

__all__ = ["multi", "require_two_classes", "single"]


def single(labels: Any, pred_probs: Any) -> SingleData:
    """Validate single-label inputs: rows of ``pred_probs`` sum to 1, ``labels`` in 0..K-1."""
    probs = as_pred_probs(pred_probs, sum_to_one=True)
    n, k = probs.shape
    if k < 2:
        raise InvalidPredProbsError(
            f"single-label pred_probs needs at least 2 columns (classes), got {k}."
        )
    return SingleData(labels=as_single_labels(labels, n, k), probs=probs)


def multi(labels: Any, pred_probs: Any) -> BinaryData:
    """Validate multi-label inputs: independent per-class probabilities and 0/1 labels."""
    probs = as_pred_probs(pred_probs, sum_to_one=False)
    n, k = probs.shape
    return BinaryData(probs=probs, given=as_multilabel(labels, n, k))


def require_two_classes(data: SingleData, *, zero_alone: bool) -> None:
    """Refuse labels that are all one class, as cleanlab does where it needs two.

    ``zero_alone``: class 0 alone is accepted (cleanlab's pruning filters and its confident
    learning allow it, for the never-present classes of multi-label data; its ``low_*`` and
    ``predicted_neq_given`` filters and ``num_label_issues`` do not).
    """
    present = np.flatnonzero(data.label_counts)
    if len(present) < 2 and not (zero_alone and present.tolist() == [0]):
        raise InvalidLabelsError(
            f"all labels are class {int(present[0])}; finding label issues needs at least two "
            "classes among the given labels."
        )
