"""Confident learning on K binary problems at once: the engine behind multi-label data.

cleanlab treats multi-label data as K one-vs-rest problems and runs its single-label code on
each, with ``pred_probs`` for class ``c`` stacked as ``[1 - p, p]``. Here the K problems are
computed together on the ``(N, K)`` arrays, in row blocks that stay in cache, and without ever
building ``1 - p``: every comparison cleanlab makes on a derived value (``1 - p >= t``, the
``argmax`` of ``[1 - p, p]``, the ``+ 1e-6`` nudge of the given label) is monotone in ``p``, so it
is turned once, by :func:`~ls_cleanlab.confident._numeric.last_true`, into an exact comparison of
``p`` against a per-class bound.

Two facts make pruning cheap. (1) Of the examples cleanlab would flag in a group (class ``c``,
given value ``k``), it finally keeps only those the model does not already explain (its
``_reduce_issues`` step); call them the *candidates*. (2) Candidates are exactly the group
members with the smallest sort keys, with a strict gap to the others (near ``p = 0.5`` the keys
are exact functions of ``p``). So flagging "the ``m`` smallest keys, then dropping the explained
ones" equals "the ``m`` smallest keys among candidates", and only candidates need sorting. When
the ``m``-th and ``(m+1)``-th keys tie, which tied example cleanlab keeps depends on
``np.argsort``; that group alone is then recomputed the way cleanlab does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from typing import Literal

import numpy as np

from ls_cleanlab.confident._numeric import (
    MIN_THRESHOLD,
    MISSING_THRESHOLD,
    NUDGE,
    last_true,
    select_smallest,
    smallest_if_untied,
)

_U = 2.0**-53  # unit roundoff of float64
_BLOCK_ELEMENTS = 1 << 17


@dataclass(frozen=True)
class BinaryData:
    """Validated multi-label inputs: ``probs`` ``(N, K)`` float64 and ``given`` ``(N, K)`` bool."""

    probs: np.ndarray
    given: np.ndarray

    @property
    def n(self) -> int:
        return int(self.probs.shape[0])

    @property
    def k(self) -> int:
        return int(self.probs.shape[1])

    @cached_property
    def label_counts(self) -> np.ndarray:
        """``(K, 2)``: examples given the class absent (column 0) and present (column 1)."""
        return label_counts(self.given)

    @property
    def n_pos(self) -> np.ndarray:
        """``(K,)`` examples given each class present."""
        return self.label_counts[:, 1]

    def blocks(self) -> list[slice]:
        step = max(1, _BLOCK_ELEMENTS // max(1, self.k))
        return [slice(s, min(s + step, self.n)) for s in range(0, self.n, step)]


def label_counts(given: np.ndarray) -> np.ndarray:
    """``(K, 2)`` counts of examples given each class absent (column 0) and present (column 1)."""
    pos = _column_counts(given)
    return np.column_stack([given.shape[0] - pos, pos])


@cache
def boundaries() -> tuple[float, float, float]:
    """The three fixed comparisons cleanlab makes on ``[1 - p, p]``, as thresholds on ``p``.

    Returns ``(candidate_pos_max, explained_neg_max, argmax_zero_max)``: a cell given present
    is not explained by the model iff ``p <= candidate_pos_max``; a cell given absent is
    explained iff ``p <= explained_neg_max``; ``argmax([1 - p, p]) == 0`` iff
    ``p <= argmax_zero_max``.
    """
    # given present, not explained: p + 1e-6 <= 1 - p
    keep_pos = float(last_true(lambda x: (x + NUDGE) <= (1 - x)))
    # given absent, explained: (1 - p) + 1e-6 >= p
    keep_neg = float(last_true(lambda x: ((1 - x) + NUDGE) >= x))
    # argmax([1 - p, p]) == 0  <=>  p <= 1 - p
    argmax0 = float(last_true(lambda x: x <= (1 - x)))
    return keep_pos, keep_neg, argmax0


def exact_thresholds(data: BinaryData) -> np.ndarray:
    """Per-class confident thresholds ``(K, 2)``, bit-identical to cleanlab's.

    Column 0 is the mean of ``1 - p`` over examples given the class absent, column 1 the mean of
    ``p`` over examples given it present; ``2`` where no example was given that value.
    """
    return np.array([_class_thresholds(data, c) for c in range(data.k)]).reshape(data.k, 2)


def _class_thresholds(data: BinaryData, c: int) -> np.ndarray:
    """Class ``c``'s two thresholds, computed exactly as cleanlab does (mean of the values)."""
    col, given = data.probs[:, c], data.given[:, c]
    out = np.full(2, MISSING_THRESHOLD)
    pos = col[given]
    if len(pos):
        out[1] = np.mean(pos)
    if len(pos) < data.n:
        out[0] = np.mean(1 - col[~given])
    return np.clip(out, MIN_THRESHOLD, None)


def comparison_bounds(
    data: BinaryData, thresholds: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on ``p`` equivalent to cleanlab's confident-threshold tests, per class.

    Returns ``(present_min, absent_max)``: class ``c`` is confidently present where
    ``p >= present_min[c]`` and confidently absent where ``p <= absent_max[c]``.

    Without ``thresholds`` the means are estimated with fast vectorized sums, and a rigorous
    bound on their rounding error gives, per class, an interval of ``p`` where the estimate
    could decide a comparison differently from the exact mean. Only classes with data in
    that interval (almost never) get their exact mean computed.
    """
    if thresholds is None:
        thresholds = _fast_thresholds(data)
    thresholds = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (data.k, 2))
    present_min = thresholds[:, 1] - NUDGE
    absent_cut = thresholds[:, 0] - NUDGE
    absent_max = last_true(lambda x: (1 - x) >= absent_cut, (data.k,))
    return present_min, absent_max


def _fast_thresholds(data: BinaryData) -> np.ndarray:
    n, k = data.n, data.k
    sum_all = np.zeros(k)
    sum_pos = np.zeros(k)
    for rows in data.blocks():
        p = data.probs[rows]
        sum_all += p.sum(axis=0)
        sum_pos += np.einsum("ij,ij->j", p, data.given[rows])
    n_pos = data.n_pos
    n_neg = n - n_pos

    def gamma(m: np.ndarray | int) -> np.ndarray:
        return np.asarray(m, dtype=np.float64) * _U * 1.01

    slack = 1.0 + 1e-6
    abs_all = (sum_all + 2e-6 * n) * slack + 1.0  # >= sum of |p|
    abs_pos = (sum_pos + 2e-6 * n_pos) * slack + 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        t_pos = sum_pos / n_pos
        err_pos = (gamma(n) + gamma(n_pos)) * abs_pos / n_pos + 4 * _U * np.abs(t_pos)
        s_neg = n_neg - (sum_all - sum_pos)
        t_neg = s_neg / n_neg
        err_neg = (
            gamma(n) * (abs_all + abs_pos)
            + 3 * _U * (2 * abs_all + 2 * n_neg)
            + gamma(n_neg) * (n_neg + abs_all)
        ) / n_neg + 4 * _U * np.abs(t_neg)
    thresholds = np.clip(
        np.column_stack(
            [
                np.where(n_neg > 0, t_neg, MISSING_THRESHOLD),
                np.where(n_pos > 0, t_pos, MISSING_THRESHOLD),
            ]
        ),
        MIN_THRESHOLD,
        None,
    )

    def window(t: np.ndarray, err: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo = np.clip(t - 2 * err, MIN_THRESHOLD, None) - NUDGE
        hi = np.clip(t + 2 * err, MIN_THRESHOLD, None) - NUDGE
        return lo - 8 * _U, hi + 8 * _U

    with np.errstate(invalid="ignore"):  # NaN windows (no example of that value) match nothing
        pos_lo, pos_hi = window(t_pos, err_pos)
        neg_lo, neg_hi = window(t_neg, err_neg)
    # 1 - p falls in [neg_lo, neg_hi] only for p in this range (|fl(1-p) - (1-p)| <= 2u):
    neg_p_lo, neg_p_hi = 1 - neg_hi - 8 * _U, 1 - neg_lo + 8 * _U
    ambiguous = np.zeros(k, dtype=np.bool_)
    for rows in data.blocks():
        p = data.probs[rows]
        hit = ((p >= pos_lo) & (p <= pos_hi)) | ((p >= neg_p_lo) & (p <= neg_p_hi))
        ambiguous |= hit.any(axis=0)
    ambiguous &= (n_pos > 0) | (n_neg > 0)
    for c in np.flatnonzero(ambiguous):
        thresholds[c] = _class_thresholds(data, int(c))
    return thresholds


@dataclass(frozen=True)
class Scan:
    """What one pass over the data learns.

    ``counts`` is the uncalibrated confident joint ``(K, 2, 2)`` indexed
    ``[class, given, true]`` (before the diagonal is raised to 1). ``candidates`` are flat
    indices ``row * K + class`` of the cells cleanlab does not consider explained by the model,
    and ``off_diagonal`` marks those among them that are confidently of the other value.
    """

    counts: np.ndarray
    candidates: np.ndarray
    off_diagonal: np.ndarray


def scan(data: BinaryData, present_min: np.ndarray, absent_max: np.ndarray) -> Scan:
    """Count the confident joint and collect candidate cells, in one blocked pass.

    cleanlab guesses the true value of a cell as present when ``p`` is confidently present and
    either not confidently absent or above the argmax cut, and symmetrically for absent. Both
    rules are intervals of ``p``, so each becomes one comparison: guessed present iff
    ``p >= guess_pos_min``, guessed absent iff ``p <= guess_neg_max``. Only the diagonal totals
    need the full data; the off-diagonal cells and the candidates all lie in the small set of
    cells given present with low ``p`` or given absent with high ``p``, which is collected once.
    """
    k = data.k
    candidate_pos_max, explained_neg_max, argmax_zero_max = boundaries()
    guess_pos_min = np.maximum(
        present_min, np.nextafter(np.minimum(absent_max, argmax_zero_max), np.inf)
    )
    guess_neg_max = np.minimum(
        absent_max, np.maximum(np.nextafter(present_min, -np.inf), argmax_zero_max)
    )
    # Cells outside these bounds are neither off-diagonal nor candidates.
    low_max = np.maximum(guess_neg_max, candidate_pos_max)
    high_min = np.minimum(guess_pos_min, np.nextafter(explained_neg_max, np.inf))
    n_guess_pos = np.zeros(k, dtype=np.int64)
    n_guess_neg = np.zeros(k, dtype=np.int64)
    parts: list[np.ndarray] = []
    for rows in data.blocks():
        p, given = data.probs[rows], data.given[rows]
        n_guess_pos += _column_counts(p >= guess_pos_min)
        n_guess_neg += _column_counts(p <= guess_neg_max)
        parts.append(np.flatnonzero(np.where(given, p <= low_max, p >= high_min)) + rows.start * k)
    cells = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    cls = cells % k
    p = data.probs.reshape(-1)[cells]
    given = data.given.reshape(-1)[cells]
    pos_as_neg = given & (p <= guess_neg_max[cls])
    neg_as_pos = ~given & (p >= guess_pos_min[cls])
    counts = np.zeros((k, 2, 2), dtype=np.int64)
    counts[:, 1, 0] = np.bincount(cls[pos_as_neg], minlength=k)
    counts[:, 0, 1] = np.bincount(cls[neg_as_pos], minlength=k)
    counts[:, 1, 1] = n_guess_pos - counts[:, 0, 1]
    counts[:, 0, 0] = n_guess_neg - counts[:, 1, 0]
    candidate = np.where(given, p <= candidate_pos_max, p > explained_neg_max)
    return Scan(
        counts=counts,
        candidates=cells[candidate],
        off_diagonal=(pos_as_neg | neg_as_pos)[candidate],
    )


def _column_counts(mask: np.ndarray) -> np.ndarray:
    """Number of True per column (faster than ``np.count_nonzero(mask, axis=0)``)."""
    return np.add.reduce(mask.view(np.uint8), axis=0, dtype=np.int64)


KeyKind = Literal["noise_rate", "by_class"]


def sort_key(p: np.ndarray, given_value: np.ndarray | int, kind: KeyKind) -> np.ndarray:
    """The value cleanlab's ``np.argsort`` ranks on, for members given ``given_value``.

    ``noise_rate`` ranks by minus the margin of the other value over the given one;
    ``by_class`` ranks by the probability of the given value.
    """
    if kind == "noise_rate":
        pos = -((1 - p) - p)
        neg = -(p - (1 - p))
    else:
        pos = p
        neg = 1 - p
    return np.where(given_value == 1, pos, neg)


def select_candidates(
    data: BinaryData,
    candidates: np.ndarray,
    num_to_flag: np.ndarray,
    kind: KeyKind,
) -> np.ndarray:
    """Mark the candidates cleanlab flags: per group, the ``m`` with the smallest keys.

    Parameters
    ----------
    candidates : ndarray of int64, flat indices ``row * K + class``
    num_to_flag : ndarray of shape (K, 2)
        ``m`` per group (class, given value); ``<= 0`` flags nothing.

    Returns
    -------
    ndarray of bool, one per candidate.

    Notes
    -----
    Groups are formed with one stable (radix) sort; then each group that keeps only part of
    its candidates gets a linear-time partition. That loop runs over groups, not examples:
    numpy has no partition of ragged segments with a different cut in each.
    """
    k = data.k
    value = data.given.reshape(-1)[candidates]
    # int16 group ids let numpy's stable sort use radix sort
    group = ((candidates % k) * 2 + value).astype(np.int16 if 2 * k < 2**15 else np.int32)
    order = np.argsort(group, kind="stable")
    sizes = np.bincount(group, minlength=2 * k)
    ends = np.cumsum(sizes)
    m = num_to_flag.reshape(-1)
    chosen_sorted = np.repeat(m >= sizes, sizes)
    partial = np.flatnonzero((m > 0) & (m < sizes))
    if len(partial):
        ordered = candidates[order]
        key = sort_key(data.probs.reshape(-1)[ordered], value[order], kind)
        for g in partial:
            seg = slice(ends[g] - sizes[g], ends[g])
            chosen = smallest_if_untied(key[seg], int(m[g]))
            if chosen is None:  # tie at the cut: cleanlab's argsort over all members decides
                chosen = _tied_group(data, ordered[seg], int(g), int(m[g]), kind)
            chosen_sorted[seg] = chosen
    out = np.empty(len(candidates), dtype=np.bool_)
    out[order] = chosen_sorted
    return out


def _tied_group(
    data: BinaryData, cells: np.ndarray, group: int, m: int, kind: KeyKind
) -> np.ndarray:
    c, v = divmod(group, 2)
    members = np.flatnonzero(data.given[:, c] == bool(v))
    flagged = select_smallest(sort_key(data.probs[members, c], v, kind), m)
    return np.isin(cells, members[flagged] * data.k + c)
