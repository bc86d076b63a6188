"""The confident joint and what it estimates (Northcutt, Jiang & Chuang 2021, JAIR 70).

For single-label data with K classes, class ``j``'s *confident threshold* ``t_j`` is the mean
predicted probability of ``j`` over the examples given ``j``. An example is *confidently* of
class ``j`` when ``p_j >= t_j`` (the largest ``p`` wins if several classes qualify). The
confident joint ``C[i, j]`` counts examples given ``i`` that are confidently ``j``; calibrated so
that row ``i`` sums to the number of examples given ``i``, then normalized, it estimates the
joint distribution ``P(given = i, true = j)``. Its off-diagonal mass is the estimated fraction of
label errors.

Multi-label data with K classes is K binary problems, one per class, each with probabilities
``[1 - p_c, p_c]`` (cleanlab's one-vs-rest reduction, Thyagarajan et al. 2022); the confident
joint is then a ``(K, 2, 2)`` stack indexed ``[class, given, true]`` with 0 = absent,
1 = present.

All functions equal cleanlab 2.9.0's (``cleanlab.count``) for the same arguments.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import numpy as np

from ls_cleanlab import validation
from ls_cleanlab.confident import _binary, _counts, _inputs, _multiclass
from ls_cleanlab.confident._binary import BinaryData
from ls_cleanlab.confident._multiclass import SingleData
from ls_cleanlab.errors import InvalidOptionError, warn_user

__all__ = [
    "calibrate_confident_joint",
    "compute_confident_joint",
    "confident_thresholds",
    "estimate_joint",
    "num_label_issues",
]

EstimationMethod = Literal["off_diagonal", "off_diagonal_calibrated", "off_diagonal_custom"]
ESTIMATION_METHODS: tuple[EstimationMethod, ...] = get_args(EstimationMethod)


def confident_thresholds(labels: Any, pred_probs: Any, *, multi_label: bool = False) -> np.ndarray:
    """Per-class confident thresholds.

    Returns
    -------
    ndarray
        Single-label: ``(K,)``, mean ``p_k`` over examples given ``k``. Multi-label: ``(K, 2)``,
        column 0 the mean ``1 - p_c`` over examples given ``c`` absent, column 1 the mean
        ``p_c`` over examples given ``c`` present. 2 where no example was given that value
        (nothing can be confident then); at least 2e-6.
    """
    if multi_label:
        return _binary.exact_thresholds(_inputs.multi(labels, pred_probs))
    return _multiclass.thresholds(_inputs.single(labels, pred_probs))


def compute_confident_joint(
    labels: Any,
    pred_probs: Any,
    *,
    multi_label: bool = False,
    calibrate: bool = True,
    thresholds: Any = None,
) -> np.ndarray:
    """Count examples by given label and confidently predicted true label.

    Parameters
    ----------
    labels, pred_probs : see :func:`~ls_cleanlab.find_label_issues`
    multi_label : bool
    calibrate : bool
        Rescale rows to the given-label counts (see module docstring).
    thresholds : array_like, optional
        Confident thresholds to use instead of :func:`confident_thresholds`: ``(K,)``
        single-label; ``(K, 2)`` or ``(2,)`` (the same for every class) multi-label.

    Returns
    -------
    ndarray of int64, ``(K, K)`` ``[given, true]`` or multi-label ``(K, 2, 2)``
    ``[class, given, true]``.
    """
    return joint_with_counts(
        labels, pred_probs, multi_label=multi_label, calibrate=calibrate, thresholds=thresholds
    )[0]


def calibrate_confident_joint(
    confident_joint: Any, labels: Any, *, multi_label: bool = False
) -> np.ndarray:
    """Calibrate a confident joint so row ``i`` sums to the number of examples given ``i``.

    Parameters
    ----------
    confident_joint : array_like of shape (K, K), or (K, 2, 2) multi-label
        Counts indexed ``[given, true]`` (multi-label ``[class, given, true]``).
    labels : array_like
        The given labels the counts come from (they supply the row totals).
    multi_label : bool

    Returns
    -------
    ndarray of int64, the same shape as ``confident_joint``; each row sums to the number of
    examples given that label, the whole matrix (each class's matrix) to N.
    """
    cj = check_joint(confident_joint, multi_label=multi_label)
    counts = label_counts_for_joint(cj, labels, multi_label=multi_label)
    return _counts.calibrate(cj, counts, column_major=multi_label and _column_major(cj))


def estimate_joint(
    labels: Any,
    pred_probs: Any,
    *,
    confident_joint: Any = None,
    multi_label: bool = False,
) -> np.ndarray:
    """Estimate the joint distribution ``P(given = i, true = j)``.

    Parameters
    ----------
    labels, pred_probs : see :func:`~ls_cleanlab.find_label_issues`
    confident_joint : array_like, optional
        ``(K, K)`` or ``(K, 2, 2)``: calibrated and normalized instead of one computed from
        ``pred_probs``.
    multi_label : bool

    Returns
    -------
    ndarray of float64, ``(K, K)`` indexed ``[given, true]`` summing to 1, or multi-label
    ``(K, 2, 2)`` indexed ``[class, given, true]`` with each class's matrix summing to 1.
    """
    if multi_label:
        data = _inputs.multi(labels, pred_probs)
        if confident_joint is None:
            cj = binary_joint(data, calibrate=True)[0]
        else:
            cj = check_joint(confident_joint, multi_label=True, k=data.k)
        calibrated = _counts.calibrate(cj, data.label_counts, column_major=_column_major(cj))
        totals = calibrated.sum(axis=(1, 2)).astype(np.float64)
        return calibrated / np.clip(totals, _counts.TINY_VALUE, None)[:, None, None]
    single = _inputs.single(labels, pred_probs)
    if confident_joint is None:
        calibrated = single_joint(single, calibrate=True)[0]
    else:
        cj = check_joint(confident_joint, multi_label=False, k=single.k)
        calibrated = _counts.calibrate(cj, single.label_counts)
    return _normalized(calibrated)


def num_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    multi_label: bool = False,
    confident_joint: Any = None,
    estimation_method: EstimationMethod = "off_diagonal",
) -> int:
    """Estimate how many examples have a label error.

    ``off_diagonal`` counts examples confidently of another class that the model's argmax does
    not already put in their given class; ``off_diagonal_calibrated`` (and
    ``off_diagonal_custom``, with your ``confident_joint``) take the off-diagonal mass of the
    estimated joint times N. Multi-label data counts examples with any such class (the
    estimation method does not apply there, as in cleanlab).

    Parameters
    ----------
    labels, pred_probs : see :func:`~ls_cleanlab.find_label_issues`
    multi_label : bool
    confident_joint : array_like of shape (K, K), optional
        Only with ``estimation_method="off_diagonal_custom"``.
    estimation_method : {"off_diagonal", "off_diagonal_calibrated", "off_diagonal_custom"}

    Returns
    -------
    int

    Raises
    ------
    InvalidLabelsError
        Single-label ``labels`` all of one class (class 0 too), as cleanlab 2.9.0 refuses them.
    """
    method = validation.check_option(estimation_method, ESTIMATION_METHODS, "estimation_method")
    if confident_joint is not None and (multi_label or method != "off_diagonal_custom"):
        warn_user(
            "num_label_issues ignores confident_joint"
            + (" for multi-label data" if multi_label else "")
            + " unless estimation_method='off_diagonal_custom' (single-label); it recomputes "
            "one from labels and pred_probs."
        )
    if multi_label:
        return binary_off_diagonal_count(_inputs.multi(labels, pred_probs))
    single = _inputs.single(labels, pred_probs)
    _inputs.require_two_classes(single, zero_alone=False)
    if method == "off_diagonal":
        return single_off_diagonal_count(single)
    if method == "off_diagonal_calibrated":
        cj = single_joint(single, calibrate=True)[0]
    elif confident_joint is None:
        raise InvalidOptionError(
            "estimation_method='off_diagonal_custom' needs a confident_joint argument."
        )
    else:
        cj = check_joint(confident_joint, multi_label=False, k=single.k)
    joint = _normalized(_counts.calibrate(cj, single.label_counts))
    return int(np.rint((1.0 - joint.trace()) * len(single.labels)))


def _normalized(calibrated: np.ndarray) -> np.ndarray:
    return calibrated / np.clip(float(np.sum(calibrated)), _counts.TINY_VALUE, None)


# Engines shared with issues.py and latent.py ------------------------------------------------


def joint_with_counts(
    labels: Any, pred_probs: Any, *, multi_label: bool, calibrate: bool, thresholds: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Validate the inputs; return the confident joint and the given-label counts.

    Counts are ``(K,)`` single-label or ``(K, 2)`` multi-label (absent, present).
    """
    if multi_label:
        data = _inputs.multi(labels, pred_probs)
        thresh = None if thresholds is None else check_multi_thresholds(thresholds, data.k)
        return binary_joint(data, calibrate=calibrate, thresholds=thresh)[0], data.label_counts
    single = _inputs.single(labels, pred_probs)
    thresh = None if thresholds is None else check_single_thresholds(thresholds, single.k)
    return single_joint(single, calibrate=calibrate, thresholds=thresh)[0], single.label_counts


def single_off_diagonal_count(data: SingleData) -> int:
    """Examples confidently of another class that the model's argmax does not explain."""
    _, off = single_joint(data, calibrate=False)
    return int(np.count_nonzero(~_multiclass.explained(data)[off]))


def binary_off_diagonal_count(data: BinaryData) -> int:
    """Examples with any class confidently of the other value and not explained."""
    scan = binary_joint(data, calibrate=False)[1]
    return len(np.unique(scan.candidates[scan.off_diagonal] // data.k))


def single_joint(
    data: SingleData, *, calibrate: bool, thresholds: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Confident joint ``(K, K)`` and the indices of its off-diagonal examples."""
    thresh = _multiclass.thresholds(data) if thresholds is None else thresholds
    cj, off = _multiclass.confident_joint(data, thresh)
    if calibrate:
        cj = _counts.calibrate(cj, data.label_counts)
    return cj, off


def binary_joint(
    data: BinaryData, *, calibrate: bool, thresholds: np.ndarray | None = None
) -> tuple[np.ndarray, _binary.Scan]:
    """Confident joint ``(K, 2, 2)`` of the K binary problems and the scan behind it."""
    present_min, absent_max = _binary.comparison_bounds(data, thresholds)
    scan = _binary.scan(data, present_min, absent_max)
    cj = scan.counts.copy()
    idx = np.arange(2)
    cj[:, idx, idx] = np.maximum(cj[:, idx, idx], 1)
    if calibrate:
        cj = _counts.calibrate(cj, data.label_counts, column_major=True)
    return cj, scan


# Validation of matrices passed in ----------------------------------------------------------


def check_joint(matrix: Any, *, multi_label: bool, k: int | None = None) -> np.ndarray:
    """Validate a user-supplied confident joint; return it as a numeric array (not copied).

    ``k``, when given, is the number of classes the joint must have.
    """
    arr = np.asarray(matrix)
    expected = "(K, 2, 2)" if multi_label else "(K, K)"
    ok_shape = (
        arr.ndim == 3 and arr.shape[1:] == (2, 2)
        if multi_label
        else arr.ndim == 2 and arr.shape[0] == arr.shape[1]
    )
    if not ok_shape or (k is not None and arr.shape[0] != k):
        want = expected if k is None else expected.replace("K", str(k))
        raise InvalidOptionError(
            f"confident_joint must have shape {want}, got {arr.shape}; compute it with "
            "compute_confident_joint(labels, pred_probs"
            + (", multi_label=True)." if multi_label else ").")
        )
    if arr.dtype.kind not in "iuf":
        raise InvalidOptionError(f"confident_joint must hold counts, got dtype {arr.dtype}.")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidOptionError(
            f"confident_joint must hold non-negative finite counts; "
            f"confident_joint[{', '.join(map(str, where))}] = {arr[where].item()!r}."
        )
    return arr


def _column_major(cj: np.ndarray) -> bool:
    return abs(cj.strides[-2]) < abs(cj.strides[-1])


def label_counts_for_joint(cj: np.ndarray, labels: Any, *, multi_label: bool) -> np.ndarray:
    """Given-label counts ``(K,)`` (multi-label ``(K, 2)``) of ``labels`` for joint ``cj``."""
    k = cj.shape[0]
    if multi_label:
        given = validation.as_multilabel(labels, None, k, against="confident_joint")
        return _binary.label_counts(given)
    y = validation.as_single_labels(labels, None, k, against="confident_joint")
    return np.bincount(y, minlength=k)


def check_single_thresholds(thresholds: Any, k: int) -> np.ndarray:
    """Validate single-label confident thresholds: ``(K,)`` finite numbers, as float64."""
    arr = _as_float_array(thresholds)
    if arr.shape != (k,) or not np.all(np.isfinite(arr)):
        raise InvalidOptionError(f"thresholds must be {k} finite numbers, got shape {arr.shape}.")
    return arr


def check_multi_thresholds(thresholds: Any, k: int) -> np.ndarray:
    """Validate multi-label thresholds, ``(K, 2)`` or one ``(2,)`` pair for all classes."""
    arr = _as_float_array(thresholds)
    if arr.shape not in {(2,), (k, 2)} or not np.all(np.isfinite(arr)):
        raise InvalidOptionError(
            f"multi-label thresholds must have shape ({k}, 2) or (2,), got {arr.shape}."
        )
    return np.broadcast_to(arr, (k, 2)).copy()


def _as_float_array(values: Any) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidOptionError(f"thresholds must be numbers, got {values!r}.") from None
