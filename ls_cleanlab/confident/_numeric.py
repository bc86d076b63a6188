"""Numerical helpers that reproduce cleanlab 2.9.0 bit for bit, without its per-class loops.

Exact parity with cleanlab is a product promise (DESIGN.md), and floating-point results depend on
the order of operations. The helpers here are where that order is pinned down:

* :func:`round_preserving_row_totals` rounds matrices the way cleanlab does (round half to even,
  then nudge the entries with the largest rounding error until each row keeps its total).
* :func:`select_smallest` picks the ``m`` smallest entries exactly as ``np.argsort(key)[:m]``
  would, including among ties, but in linear time when the boundary is not tied.
* :func:`last_true` finds, by bisection over the ordered set of float64 values, the largest
  float where a monotone elementwise predicate holds. It turns comparisons on derived quantities
  such as ``1 - p >= c`` (where ``1 - p`` is rounded) into exact comparisons on ``p`` itself, so
  the multi-label code never materializes ``1 - pred_probs``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# cleanlab's constants, shared by the single- and multi-label engines
NUDGE = 1e-6  # FLOATING_POINT_COMPARISON: slack on thresholds, nudge toward the given label
MIN_THRESHOLD = 2e-6  # CONFIDENT_THRESHOLDS_LOWER_BOUND
MISSING_THRESHOLD = 2.0  # threshold of a class nobody was given: nothing is confident

_SIGN = np.int64(-(2**63))


def _ordered(x: np.ndarray) -> np.ndarray:
    """Map float64 values to int64 keys with the same order (-0.0 and 0.0 map to 0)."""
    bits = np.array(x, dtype=np.float64).view(np.int64)
    return np.where(bits < 0, _SIGN - np.minimum(bits, 0), bits)


def _unordered(keys: np.ndarray) -> np.ndarray:
    bits = np.where(keys < 0, _SIGN - np.minimum(keys, 0), keys)
    return bits.astype(np.int64).view(np.float64)


def last_true(
    pred: Callable[[np.ndarray], np.ndarray],
    shape: tuple[int, ...] = (),
    lo: float = -1.0,
    hi: float = 2.0,
) -> np.ndarray:
    """Largest float64 ``x`` in ``[lo, hi]`` with ``pred(x)`` true, elementwise over ``shape``.

    ``pred`` must be monotone: true on ``[lo, x*]`` and false above ``x*``. Where it is false
    at ``lo`` the result is ``-inf``; where it is true at ``hi`` the result is ``hi``. Then for
    any float ``p`` in ``[lo, hi]``, ``pred(p) == (p <= result)``.
    """
    lo_key = np.broadcast_to(_ordered(np.array(lo)), shape).copy()
    hi_key = np.broadcast_to(_ordered(np.array(hi)), shape).copy()
    true_at_lo = pred(np.broadcast_to(np.float64(lo), shape).copy())
    true_at_hi = pred(np.broadcast_to(np.float64(hi), shape).copy())
    # Invariant: pred(lo_key) true, pred(hi_key) false.
    while True:
        open_ = hi_key - lo_key > 1
        if not np.any(open_):
            break
        mid = lo_key + (hi_key - lo_key) // 2
        holds = pred(_unordered(mid))
        lo_key = np.where(open_ & holds, mid, lo_key)
        hi_key = np.where(open_ & ~holds, mid, hi_key)
    out = _unordered(lo_key)
    out = np.where(true_at_hi, np.float64(hi), out)
    return np.where(true_at_lo, out, -np.inf)


def round_preserving_row_totals(matrix: np.ndarray) -> np.ndarray:
    """Round each row to integers whose sum equals the rounded row total (cleanlab's rule).

    Rows are rounded half to even; where the rounded entries do not add up to the rounded
    total, the entries with the largest rounding residuals are moved by one, in the order
    ``np.argsort`` gives them, until they do. Vectorized for all rows; only rows that need the
    adjustment (rare) take the per-row path.
    """
    floats = np.ascontiguousarray(matrix, dtype=np.float64)
    shape = floats.shape
    floats = floats.reshape(-1, shape[-1])
    ints = np.round(floats)
    with np.errstate(invalid="ignore"):
        off = np.abs(np.round(ints.sum(axis=1)) - np.round(floats.sum(axis=1))) > 1e-6
    for row in np.flatnonzero(off):
        ints[row] = _nudge_row(floats[row], ints[row].copy())
    with np.errstate(invalid="ignore"):
        return ints.astype(np.int64).reshape(shape)


def _nudge_row(floats: np.ndarray, ints: np.ndarray) -> np.ndarray:
    target = np.sum(floats).round()
    total = np.sum(ints).round()
    while abs(total - target) > 1e-6:
        diff = np.round(target - total)
        step = -1 if diff < 0 else 1
        changes = min(int(abs(diff)), len(floats))
        for i in np.argsort(floats - ints)[::-step][:changes]:
            ints[i] += step
        total = np.sum(ints).round()
    return ints


def select_smallest(key: np.ndarray, m: int) -> np.ndarray:
    """Boolean mask of the entries ``np.argsort(key)[:m]`` selects, in linear time when possible.

    When the ``m``-th and ``(m+1)``-th smallest values differ the selection is unambiguous and a
    partition finds it. When they tie, which of the tied entries ``argsort`` keeps depends on its
    sorting algorithm, so the argsort itself is run.
    """
    mask = smallest_if_untied(key, m)
    if mask is None:
        mask = np.zeros(len(key), dtype=np.bool_)
        mask[np.argsort(key)[:m]] = True
    return mask


def smallest_if_untied(key: np.ndarray, m: int) -> np.ndarray | None:
    """Mask of the ``m`` smallest entries, or ``None`` if the ``m``-th ties with the next one."""
    n = len(key)
    if m <= 0:
        return np.zeros(n, dtype=np.bool_)
    if m >= n:
        return np.ones(n, dtype=np.bool_)
    kth = np.partition(key, m - 1)[m - 1]
    below = key <= kth
    return below if np.count_nonzero(below) == m else None
