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

from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from ls_cleanlab.confident import _binary, _inputs, _multiclass
from ls_cleanlab.confident._binary import BinaryData
from ls_cleanlab.confident._multiclass import SingleData
from ls_cleanlab.errors import InvalidOptionError, InvalidPredProbsError

__all__ = ["label_quality_scores", "label_quality_scores_per_class"]

Method = Literal["self_confidence", "normalized_margin", "confidence_weighted_entropy"]
METHODS: tuple[Method, ...] = (
    "self_confidence",
    "normalized_margin",
    "confidence_weighted_entropy",
)
AggregatorName = Literal["exponential_moving_average", "softmin"]
AGGREGATORS: tuple[AggregatorName, ...] = ("exponential_moving_average", "softmin")
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
    alpha: float = 0.8,
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
    alpha : float in [0, 1]
        Weight of the next-worse class in the exponential moving average.
    temperature : float > 0
        Softmin temperature; small values approach the minimum.

    Returns
    -------
    ndarray of shape (N,), values in [0, 1].
    """
    method = _inputs.check_option(method, METHODS, "method")
    if multi_label:
        reduce = _aggregator(aggregator, alpha, temperature)
        data = _inputs.multi(labels, pred_probs)
        if aggregator == "exponential_moving_average":
            return _class_scores_ema(data, method, adjust_pred_probs, alpha)
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
    method = _inputs.check_option(method, METHODS, "method")
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
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(x))


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


def _class_scores(data: BinaryData, method: Method, adjust: bool) -> np.ndarray:
    """Per-class binary scores ``(N, K)``, computed in row blocks."""
    _check_adjust(method, adjust)
    if method == "confidence_weighted_entropy":
        _check_entropy_range(data.probs)
    thresh = _binary.exact_thresholds(data) if adjust else None
    out = np.empty(data.probs.shape)
    for rows in data.blocks():
        out[rows] = _binary_block_scores(data.probs[rows], data.given[rows], method, thresh)
    return out


def _class_scores_ema(data: BinaryData, method: Method, adjust: bool, alpha: float) -> np.ndarray:
    """EMA of the per-class scores, block by block, never holding the (N, K) matrix."""
    _check_adjust(method, adjust)
    if method == "confidence_weighted_entropy":
        _check_entropy_range(data.probs)
    thresh = _binary.exact_thresholds(data) if adjust else None
    out = np.empty(data.n)
    for start in range(0, data.n, _EMA_ROWS):
        rows = slice(start, min(start + _EMA_ROWS, data.n))
        block = _binary_block_scores(data.probs[rows], data.given[rows], method, thresh)
        block.sort(axis=1)
        out[rows] = _ema_block(block, alpha)
    return out


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


def _aggregator(aggregator: Aggregator, alpha: float, temperature: float) -> Callable:
    if callable(aggregator):
        return _custom(aggregator)
    name = _inputs.check_option(aggregator, AGGREGATORS, "aggregator")
    if name == "exponential_moving_average":
        if not 0 <= alpha <= 1:
            raise InvalidOptionError(f"alpha must lie in [0, 1], got {alpha!r}.")
        return lambda scores: exponential_moving_average(scores, alpha=alpha)
    if not temperature > 0:
        raise InvalidOptionError(f"temperature must be > 0, got {temperature!r}.")
    return lambda scores: softmin(scores, temperature=temperature)


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


def exponential_moving_average(scores: np.ndarray, *, alpha: float = 0.8) -> np.ndarray:
    """Aggregate rows of ``(N, K)`` scores, from the best class to the worst, by EMA.

    ``s <- alpha * s_i + (1 - alpha) * s`` over the row sorted in decreasing order, starting
    from its largest entry: the worst classes weigh most. Rows are processed in blocks that
    stay in cache; the arithmetic is cleanlab's, operation for operation.
    """
    n = scores.shape[0]
    out = np.empty(n)
    for start in range(0, n, _EMA_ROWS):
        rows = slice(start, min(start + _EMA_ROWS, n))
        out[rows] = _ema_block(np.sort(scores[rows], axis=1), alpha)
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


def softmin(scores: np.ndarray, *, temperature: float = 0.1) -> np.ndarray:
    """Aggregate rows of ``(N, K)`` scores by their softmin-weighted mean."""
    x = (1 - scores) / max(temperature, CLIP_LOW)
    x = x - np.max(x, axis=1, keepdims=True)
    weights = np.exp(x)
    weights = weights / np.sum(weights, axis=1, keepdims=True)
    return np.einsum("ij,ij->i", scores, weights)
