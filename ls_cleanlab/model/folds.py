"""Stratified cross-validation folds for single- and multi-label data.

Multi-label folds follow the iterative stratification of Sechidis, Tsoumakas & Vlahavas (2011),
"On the stratification of multi-label data" (ECML PKDD): each fold ``f`` wants
``c_fl = |D_l| / F`` examples of every label ``l``; the label with the fewest examples still
unassigned is handled first, and its examples go to the folds that still want most of it. The
paper assigns one example at a time; here all the unassigned examples of the chosen label are
assigned at once, which is what makes N = 1e6 rows take seconds:

* the number each fold receives is the integer water-filling of the remaining wants
  ``c_fl`` (exactly what one-at-a-time assignment to the fold wanting most would give, up to
  ties);
* the examples are sorted by their other labels, rarest label first, and dealt to an
  interleaved sequence of fold slots, so each combination of co-labels spreads over the folds
  in proportion too, and the wants of the other labels are updated by what was dealt.

Examples with no label are dealt last, to the folds that still want most examples. Single-label
data is the one-hot special case: per-class stratification. Ties are broken by one seeded
permutation of the rows, of the labels and of the folds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ls_cleanlab.model.inputs import as_label_matrix, check_n_folds
from ls_cleanlab.validation import check_int

__all__ = ["stratified_folds"]


def stratified_folds(labels: Any, *, n_folds: int = 5, seed: int = 0) -> np.ndarray:
    """Assign each row to one of ``n_folds`` folds, stratified by its labels.

    Parameters
    ----------
    labels : array_like of shape (N, K) with 0/1 entries, or (N,) of class indices
        Multi-label rows are stratified by iterative stratification (Sechidis et al. 2011, see
        the module docstring); single-label rows per class.
    n_folds : int, default 5
        Number of folds, in ``[2, N]``.
    seed : int, default 0
        Seeds the tie-breaking permutations (``np.random.default_rng(seed)``).

    Returns
    -------
    folds : ndarray of int64, shape (N,)
        Fold id in ``[0, n_folds)`` of each row. Every fold holds ``N / n_folds`` rows up to
        rounding for unlabelled rows, and every class's examples differ by at most about one
        between folds. The same labels and seed always give the same folds.
    """
    matrix, _ = as_label_matrix(labels)
    n_folds = check_n_folds(n_folds, len(matrix))
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    return _iterative_stratification(matrix, n_folds, rng)


def _iterative_stratification(
    labels: np.ndarray, n_folds: int, rng: np.random.Generator
) -> np.ndarray:
    n, k = labels.shape
    perm = rng.permutation(n)
    label_rank = rng.permutation(k)  # breaks ties between equally rare labels
    by_label = np.ascontiguousarray(labels[perm].T)  # (K, N) in permuted row order
    folds = np.full(n, -1, dtype=np.int64)
    positives = by_label.sum(axis=1)
    label_want = np.outer(np.full(n_folds, 1.0 / n_folds), positives)  # (F, K)
    size_want = np.full(n_folds, n / n_folds)
    remaining = positives.astype(np.int64)
    done = np.zeros(k, dtype=np.bool_)
    while True:
        open_ = np.flatnonzero(~done & (remaining > 0))
        if not len(open_):
            break
        label = open_[np.lexsort((label_rank[open_], remaining[open_]))[0]]
        done[label] = True
        rows = np.flatnonzero(by_label[label] & (folds < 0))
        quotas = _water_fill(len(rows), label_want[:, label], size_want, rng)
        sub = by_label[:, rows].T  # (m, K)
        order = _pattern_order(sub, remaining)
        slots = _deal(quotas, rng)
        folds[rows[order]] = slots
        dealt = sub[order]
        for f in range(n_folds):
            label_want[f] -= dealt[slots == f].sum(axis=0)
        size_want -= quotas
        remaining -= sub.sum(axis=0)
    rest = np.flatnonzero(folds < 0)
    if len(rest):
        folds[rest] = _deal(_water_fill(len(rest), size_want, size_want, rng), rng)
    out = np.empty(n, dtype=np.int64)
    out[perm] = folds
    return out


def _water_fill(
    m: int, want: np.ndarray, size_want: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Split ``m`` items over folds so the remaining wants ``want - q`` are as level as possible:
    ``q_f = max(0, want_f - L)`` with the level ``L`` making them sum to ``m``, rounded by
    largest remainder (ties: the fold wanting more rows, then a random order)."""
    f = len(want)
    desc = np.sort(want)[::-1]
    level = desc[-1] - m / f
    for j in range(1, f + 1):  # the j folds wanting most are filled down to the level
        candidate = (desc[:j].sum() - m) / j
        if j == f or candidate >= desc[j]:
            level = candidate
            break
    share = np.maximum(want - level, 0.0)
    share *= m / share.sum() if share.sum() > 0 else 0.0
    quotas = np.floor(share + 1e-9).astype(np.int64)
    short = m - int(quotas.sum())
    if short > 0:
        frac = share - quotas
        pick = np.lexsort((rng.permutation(f), -size_want, -np.round(frac, 9)))[:short]
        quotas[pick] += 1
    elif short < 0:  # rounding overshoot: take back from the smallest fractions
        frac = share - quotas
        for i in np.lexsort((rng.permutation(f), np.round(frac, 9))):
            if short == 0:
                break
            if quotas[i] > 0:
                quotas[i] -= 1
                short += 1
    return quotas


def _pattern_order(sub: np.ndarray, remaining: np.ndarray) -> np.ndarray:
    """Stable order of the rows of ``sub`` by their labels, rarest remaining label as the most
    significant key, so equal combinations are contiguous and get dealt over all folds."""
    if len(sub) < 2 or sub.shape[1] < 2:
        return np.arange(len(sub))
    cols = np.argsort(remaining, kind="stable")
    packed = np.packbits(sub[:, cols], axis=1)  # big-endian bits: the rarest label first
    if packed.shape[1] == 1:
        return np.argsort(packed[:, 0], kind="stable")
    return np.lexsort(packed.T[::-1])


def _deal(quotas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A sequence of fold ids holding fold ``f`` ``quotas[f]`` times, evenly interleaved: the
    ``j``-th slot of fold ``f`` sits at ``(j + 1/2) / quotas[f]``; ties in random fold order."""
    owner = np.repeat(np.arange(len(quotas)), quotas)
    starts = np.repeat(np.cumsum(quotas) - quotas, quotas)
    position = (np.arange(len(owner)) - starts + 0.5) / quotas[owner]
    return owner[np.lexsort((rng.permutation(len(quotas))[owner], position))]
