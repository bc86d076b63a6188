"""Label quality scores: how likely each given label is correct, in [0, 1], lower = worse.

Single-label scores (Northcutt et al. 2021; Kuan & Mueller 2022, "Model-agnostic label quality
scoring to detect real-world label errors"), for an example with given label ``y``, predicted
probabilities ``p`` over K classes:

* ``self_confidence``: ``p_y``.
* ``normalized_margin``: ``(p_y - max_{j != y} p_j + 1) / 2``.
* ``confidence_weighted_entropy``: with ``H = -sum_j p_j log p_j / log K`` and ``r = H / p_y``,
  ``log(1 + r) / r``.

With ``adjust_pred_probs`` each class's confident threshold is subtracted from its probability
first (rows renormalized), which corrects for classes the model is systematically over- or
under-confident about.

Multi-label scores (Thyagarajan et al. 2022, "Identifying incorrect annotations in multi-label
classification data"): each class is a binary problem scored as above on ``[1 - p_c, p_c]``,
giving an ``(N, K)`` matrix; an example's score aggregates its row. The exponential moving
average over the row sorted from best to worst, ``s <- alpha * s_i + (1 - alpha) * s``, weighs
the worst classes most; ``softmin`` is ``sum_i s_i softmax((1 - s) / T)_i``.

All results equal cleanlab 2.9.0's (``cleanlab.rank.get_label_quality_scores`` and
``cleanlab.multilabel_classification.rank``) for the same arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, Literal, get_args

import numpy as np
from scipy.special import xlogy

from ls_cleanlab import validation
from ls_cleanlab.confident import _binary, _inputs, _multiclass
from ls_cleanlab.confident._binary import BinaryData
from ls_cleanlab.confident._multiclass import SingleData
from ls_cleanlab.errors import InvalidOptionError, InvalidPredProbsError

__all__ = [
    "exponential_moving_average",
    "label_quality_scores",
    "label_quality_scores_per_class",
    "softmin",
]

Method = Literal["self_confidence", "normalized_margin", "confidence_weighted_entropy"]
METHODS: tuple[Method, ...] = get_args(Method)
AggregatorName = Literal["exponential_moving_average", "softmin"]
AGGREGATORS: tuple[AggregatorName, ...] = get_args(AggregatorName)
Aggregator = AggregatorName | Callable[..., np.ndarray]

CLIP_LOW = 1e-6  # cleanlab's CLIPPING_LOWER_BOUND
_EMA_ROWS = 4096  # rows per block when aggregating: (4096, K) floats stay in cache


def label_quality_scores(
    labels: Any,
    pred_probs: Any,
    *,
    multi_label: bool = False,
    method: Method = "self_confidence",
    adjust_pred_probs: bool = False,
    aggregator: Aggregator = "exponential_moving_average",
    alpha: float | None = 0.8,
    temperature: float = 0.1,
) -> np.ndarray:
    """Score how likely each example's given label is correct.

    Parameters
    ----------
    labels : array_like
        Single-label: ``(N,)`` class indices. Multi-label: ``(N, K)`` 0/1 matrix or a list of
        N lists of class indices.
    pred_probs : array_like of shape (N, K)
        Out-of-sample predicted probabilities. Single-label rows must sum to 1.
    multi_label : bool
    method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
    adjust_pred_probs : bool
        Subtract per-class confident thresholds first (not with ``confidence_weighted_entropy``).
    aggregator : {"exponential_moving_average", "softmin"} or callable
        Multi-label only: how a row of per-class scores becomes one score. A callable is called
        as ``aggregator(scores, axis=1)`` and must return ``(N,)``, e.g. ``np.min``.
    alpha : float in [0, 1] or None
        Weight of the next-worse class in the exponential moving average; None means
        ``2 / (K + 1)``.
    temperature : float > 0
        Softmin temperature; small values approach the minimum.

    Returns
    -------
    ndarray of shape (N,), values in [0, 1].
    """
    method = validation.check_option(method, METHODS, "method")
    if multi_label:
        data = _inputs.multi(labels, pred_probs)
        if isinstance(aggregator, str) and aggregator == "exponential_moving_average":
            return ema_scores(data, method, adjust_pred_probs, _check_alpha(alpha, data.k))
        reduce = _aggregator(aggregator, alpha, temperature)
        return reduce(_class_scores(data, method, adjust_pred_probs))
    single = _inputs.single(labels, pred_probs)
    return _single_scores(single, method, adjust_pred_probs)


def label_quality_scores_per_class(
    labels: Any,
    pred_probs: Any,
    *,
    method: Method = "self_confidence",
    adjust_pred_probs: bool = False,
) -> np.ndarray:
    """Multi-label: the ``(N, K)`` matrix of per-class label quality scores.

    Entry ``(i, c)`` scores whether class ``c`` is correctly marked present or absent for
    example ``i``; the aggregated scores of :func:`label_quality_scores` summarize its rows.
    """
    method = validation.check_option(method, METHODS, "method")
    return _class_scores(_inputs.multi(labels, pred_probs), method, adjust_pred_probs)


def _check_adjust(method: Method, adjust: bool) -> None:
    if adjust and method == "confidence_weighted_entropy":
        raise InvalidOptionError(
            "adjust_pred_probs=True is not supported with method='confidence_weighted_entropy'; "
            "use 'self_confidence' or 'normalized_margin', or set adjust_pred_probs=False."
        )


def _check_entropy_range(probs: np.ndarray) -> None:
    if probs.size and (probs.min() < 0 or probs.max() > 1):
        raise InvalidPredProbsError(
            "method='confidence_weighted_entropy' needs pred_probs within [0, 1] exactly; "
            "clip them first (np.clip(pred_probs, 0, 1))."
        )


def _entropy_score(self_conf: np.ndarray, entropy: np.ndarray) -> np.ndarray:
    ratio = entropy / np.clip(self_conf, a_min=CLIP_LOW, a_max=None)
    return np.log(ratio + 1) / np.clip(ratio, a_min=CLIP_LOW, a_max=None)


def _xlogx(x: np.ndarray) -> np.ndarray:
    # scipy's xlogy, as cleanlab: its log is libm's, which differs from numpy's vectorized log
    # in the last bit for some inputs (e.g. 0.7058208604199626), enough to break exact parity
    return np.asarray(xlogy(x, x))


def _single_scores(data: SingleData, method: Method, adjust: bool) -> np.ndarray:
    _check_adjust(method, adjust)
    probs = data.probs
    if adjust:
        thresh = _multiclass.thresholds(data)
        probs = probs - thresh
        probs += thresh.max()
        probs /= probs.sum(axis=1, keepdims=True)
    rows = np.arange(len(data.labels))
    self_conf = probs[rows, data.labels]
    if method == "self_confidence":
        return self_conf
    if method == "normalized_margin":
        others = probs.copy()
        others[rows, data.labels] = -np.inf
        return (self_conf - others.max(axis=1) + 1) / 2
    _check_entropy_range(probs)
    entropy = -np.sum(_xlogx(probs), axis=1) / np.log(data.k)
    return _entropy_score(self_conf, entropy)


def ema_scores(data: BinaryData, method: Method, adjust: bool, alpha: float) -> np.ndarray:
    """Per-class scores aggregated by EMA, block by block, never holding the (N, K) matrix."""
    out = np.empty(data.n)
    for rows, block in _class_score_blocks(data, method, adjust, _EMA_ROWS):
        block.sort(axis=1)
        out[rows] = _ema_block(block, alpha)
    return out


def _class_scores(data: BinaryData, method: Method, adjust: bool) -> np.ndarray:
    """Per-class binary scores ``(N, K)``."""
    out = np.empty(data.probs.shape)
    for rows, block in _class_score_blocks(data, method, adjust, _EMA_ROWS):
        out[rows] = block
    return out


def _class_score_blocks(
    data: BinaryData, method: Method, adjust: bool, rows_per_block: int
) -> Iterator[tuple[slice, np.ndarray]]:
    """Per-class scores, one fresh ``(rows, K)`` block at a time (the caller may overwrite)."""
    _check_adjust(method, adjust)
    if method == "confidence_weighted_entropy":
        _check_entropy_range(data.probs)
    thresh = _binary.exact_thresholds(data) if adjust else None
    for start in range(0, data.n, rows_per_block):
        rows = slice(start, min(start + rows_per_block, data.n))
        yield rows, _binary_block_scores(data.probs[rows], data.given[rows], method, thresh)


def _binary_block_scores(
    p: np.ndarray, given: np.ndarray, method: Method, thresh: np.ndarray | None
) -> np.ndarray:
    absent, present = 1 - p, p
    if thresh is None and method == "self_confidence":
        np.copyto(absent, present, where=given)  # the given value's probability, in place
        return absent
    if thresh is not None:
        top = thresh.max(axis=1)
        absent = (absent - thresh[:, 0]) + top
        present = (present - thresh[:, 1]) + top
        total = absent + present
        absent, present = absent / total, present / total
    mine = np.where(given, present, absent)
    other = np.where(given, absent, present)
    if method == "self_confidence":
        return mine
    if method == "normalized_margin":
        return (mine - other + 1) / 2
    entropy = -(_xlogx(absent) + _xlogx(present)) / np.log(2)
    return _entropy_score(mine, entropy)


def _aggregator(
    aggregator: Aggregator, alpha: float | None, temperature: float
) -> Callable[[np.ndarray], np.ndarray]:
    if callable(aggregator):
        return _custom(aggregator)
    name = validation.check_option(aggregator, AGGREGATORS, "aggregator")
    if name == "exponential_moving_average":
        return partial(exponential_moving_average, alpha=alpha)
    _check_temperature(temperature)
    return partial(softmin, temperature=temperature)


def _check_alpha(alpha: float | None, k: int) -> float:
    if alpha is None:
        return 2 / (k + 1)
    return validation.check_real(alpha, "alpha", low=0.0, high=1.0)


def _check_temperature(temperature: float) -> None:
    validation.check_real(temperature, "temperature", low=0.0, open_low=True)


def _check_scores(scores: Any) -> np.ndarray:
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim != 2:
        raise InvalidOptionError(f"scores must be an (N, K) array, got shape {arr.shape}.")
    return arr


def _custom(func: Callable[..., np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    def reduce(scores: np.ndarray) -> np.ndarray:
        out = np.asarray(func(scores, axis=1), dtype=np.float64)
        if out.shape != (scores.shape[0],):
            raise InvalidOptionError(
                f"the aggregator {getattr(func, '__name__', func)!r} returned shape {out.shape}; "
                f"it must reduce the (N, K) scores along axis=1 to shape ({scores.shape[0]},)."
            )
        return out

    return reduce


def exponential_moving_average(scores: Any, *, alpha: float | None = 0.8) -> np.ndarray:
    """Aggregate rows of ``(N, K)`` scores, from the best class to the worst, by EMA.

    ``s <- alpha * s_i + (1 - alpha) * s`` over the row sorted in decreasing order, starting
    from its largest entry: the worst classes weigh most. Rows are processed in blocks that
    stay in cache; the arithmetic is cleanlab's, operation for operation.

    Parameters
    ----------
    scores : array_like of shape (N, K)
    alpha : float in [0, 1], or None for ``2 / (K + 1)``

    Returns
    -------
    ndarray of shape (N,)
    """
    arr = _check_scores(scores)
    n, k = arr.shape
    weight = _check_alpha(alpha, k)
    out = np.empty(n)
    for start in range(0, n, _EMA_ROWS):
        rows = slice(start, min(start + _EMA_ROWS, n))
        out[rows] = _ema_block(np.sort(arr[rows], axis=1), weight)
    return out


def _ema_block(ascending: np.ndarray, alpha: float) -> np.ndarray:
    """EMA of rows already sorted ascending; the (r, K) block may be overwritten."""
    k = ascending.shape[1]
    scaled = np.multiply(ascending.T, alpha, order="C")  # alpha * s_i, one row per rank
    ema = ascending[:, k - 1].copy()
    keep = 1 - alpha
    for i in range(k - 2, -1, -1):
        ema *= keep
        ema += scaled[i]
    return ema


def softmin(scores: Any, *, temperature: float = 0.1) -> np.ndarray:
    """Aggregate rows of ``(N, K)`` scores by their softmin-weighted mean.

    Weights are ``softmax((1 - s) / temperature)`` over the row; small temperatures approach
    the row minimum, large ones the mean.

    Parameters
    ----------
    scores : array_like of shape (N, K)
    temperature : float > 0

    Returns
    -------
    ndarray of shape (N,)
    """
    arr = _check_scores(scores)
    _check_temperature(temperature)
    x = (1 - arr) / max(temperature, CLIP_LOW)
    x = x - np.max(x, axis=1, keepdims=True)
    weights = np.exp(x)
    weights = weights / np.sum(weights, axis=1, keepdims=True)
    return np.einsum("ij,ij->i", arr, weights)
