"""Labeler-bias monitors: each named failure mode of annotators as a measured signal.

* **Search satisficing** (stopping after the first label found): on tasks an annotator shares
  with others, how often their label set is a strict subset of a co-annotator's versus a strict
  superset, and how many labels they give per task compared with them. Without bias, subsets and
  supersets are equally likely; a one-sided sign test gives the p-value.
* **Anchoring and the gambler's fallacy**: whether an annotator's labels on a task depend on their
  own previous task (in ``created_at`` order) beyond what the tasks themselves explain. The
  residuals ``labels - P(present)`` of consecutive annotations are multiplied and summed; a
  permutation of the time order gives the null distribution. Positive dependence is anchoring
  (repeating the previous answer), negative the gambler's fallacy (avoiding it).
* **Fatigue**: within work sessions (split where ``created_at`` has a gap longer than
  :data:`SESSION_GAP`), whether the expected number of wrong cells per annotation grows with the
  position in the session (Spearman correlation, one-sided p-value), and whether it grows as the
  lead time shrinks (rushing).
* **Availability bias** per class: estimated miss and spurious rates against prevalence; a rare
  class that is under-labelled is flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators.blocks import column_sums, row_blocks
from ls_cleanlab.annotators.votes import key_means
from ls_cleanlab.audit.stats import sign_test

__all__ = [
    "ALPHA",
    "AnnotatorBias",
    "ClassBias",
    "annotator_bias",
    "class_bias",
]

#: Significance level of the bias flags.
ALPHA = 0.01
#: A pause longer than this (seconds) between two annotations starts a new work session.
SESSION_GAP = 30 * 60.0
#: Time-order tests use at most this many of an annotator's most recent annotations.
MAX_SEQUENCE = 5000
#: Time-order tests need at least this many annotations of one annotator (else NaN): fewer
#: cannot reach the significance level of the flags anyway, and skipping them keeps projects
#: with hundreds of occasional annotators fast.
MIN_SEQUENCE = 30
#: Permutations of the time order in the anchoring test.
PERMUTATIONS = 199


@dataclass(frozen=True)
class AnnotatorBias:
    """Per-annotator bias statistics, arrays of shape ``(M,)`` over ``annotator_ids``.

    ``subset_rate`` / ``superset_rate``: share of (annotation, co-annotation) pairs on shared
    tasks where this annotator's set is a strict subset / superset of the other's.
    ``labels_vs_coannotators``: mean own label count minus the co-annotator's on shared tasks.
    ``satisficing_p``: one-sided sign-test p-value of subsets over supersets.
    ``anchoring_effect``: the lag-1 residual dependence standardized by its permutation spread;
    ``anchoring_p`` / ``gamblers_p``: one-sided permutation p-values.
    ``fatigue_rho`` / ``fatigue_p``: Spearman correlation of expected errors with the position in
    the session; ``rushing_rho`` / ``rushing_p``: with shorter lead time.
    ``lead_time_per_label``: mean seconds per given label.
    NaN where a statistic cannot be computed (no shared tasks, no times, too few annotations).
    """

    annotator_ids: np.ndarray
    subset_rate: np.ndarray
    superset_rate: np.ndarray
    labels_vs_coannotators: np.ndarray
    satisficing_p: np.ndarray
    anchoring_effect: np.ndarray
    anchoring_p: np.ndarray
    gamblers_p: np.ndarray
    fatigue_rho: np.ndarray
    fatigue_p: np.ndarray
    rushing_rho: np.ndarray
    rushing_p: np.ndarray
    lead_time_per_label: np.ndarray


def _pairs(ann: Annotations) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs of distinct annotations on the same task, as row indices."""
    order = np.argsort(ann.task, kind="stable")
    task = ann.task[order]
    firsts: list[np.ndarray] = []
    seconds: list[np.ndarray] = []
    offset = 1
    while offset < len(order):
        same = task[offset:] == task[:-offset]
        if not same.any():
            break
        left = order[:-offset][same]
        right = order[offset:][same]
        firsts += [left, right]
        seconds += [right, left]
        offset += 1
    if not firsts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(firsts), np.concatenate(seconds)


def _coannotator_stats(ann: Annotations) -> tuple[np.ndarray, ...]:
    m = ann.n_annotators
    first, second = _pairs(ann)
    own = ann.labels[first].astype(bool)
    other = ann.labels[second].astype(bool)
    n_own = own.sum(axis=1)
    n_other = other.sum(axis=1)
    inside = ~(own & ~other).any(axis=1)  # own within other
    around = ~(other & ~own).any(axis=1)
    subset = inside & (n_own < n_other)
    superset = around & (n_own > n_other)
    who = ann.annotator_index[first]
    n_sub = np.bincount(who, weights=subset, minlength=m)
    n_super = np.bincount(who, weights=superset, minlength=m)
    return (
        key_means(subset, who, m),
        key_means(superset, who, m),
        key_means(n_own - n_other, who, m),
        sign_test(n_sub, n_super),
    )


def _anchoring(
    residual: np.ndarray, rng: np.random.Generator, permutations: int
) -> tuple[float, float, float]:
    """Standardized lag-1 dependence of residual rows in time order, and its two p-values."""
    if len(residual) < MIN_SEQUENCE:
        return np.nan, np.nan, np.nan
    observed = float(np.einsum("ij,ij->", residual[1:], residual[:-1]))
    null = np.empty(permutations)
    for r in range(permutations):
        shuffled = residual[rng.permutation(len(residual))]
        null[r] = np.einsum("ij,ij->", shuffled[1:], shuffled[:-1])
    spread = null.std()
    effect = (observed - null.mean()) / spread if spread > 0 else 0.0
    p_high = (1 + np.count_nonzero(null >= observed)) / (permutations + 1)
    p_low = (1 + np.count_nonzero(null <= observed)) / (permutations + 1)
    return effect, p_high, p_low


def _spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Spearman's rho and its one-sided p-value for rho > 0; NaN when undefined."""
    from scipy.stats import spearmanr

    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < MIN_SEQUENCE or np.ptp(x[keep]) == 0 or np.ptp(y[keep]) == 0:
        return np.nan, np.nan
    result = spearmanr(x[keep], y[keep], alternative="greater")
    return float(result.statistic), float(result.pvalue)


def session_positions(times: np.ndarray, gap: float = SESSION_GAP) -> np.ndarray:
    """Position of each annotation (already in time order) within its work session, from 0."""
    starts = np.ones(len(times), dtype=bool)
    starts[1:] = ~(np.diff(times) <= gap)
    session = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    return np.arange(len(times)) - first[session]


def _errors(ann: Annotations, present: np.ndarray) -> np.ndarray:
    """``(A,)`` each annotation's summed absolute residual against ``present``, a block of
    annotations at a time (an ``(A, K)`` residual is 1 GB at a million tasks)."""
    out = np.empty(len(ann))
    for rows in row_blocks(len(ann), ann.n_classes):
        out[rows] = np.abs(ann.labels[rows] - present[ann.task[rows]]).sum(axis=1)
    return out


def annotator_bias(
    ann: Annotations,
    present: np.ndarray | None,
    *,
    seed: int = 0,
    permutations: int = PERMUTATIONS,
) -> AnnotatorBias:
    """Measure the labeler biases of every annotator.

    Parameters
    ----------
    ann : Annotations
    present : ndarray, shape (n, K), optional
        Estimated probability that each class is truly present on each task (the audit's
        posterior). Needed for the anchoring and fatigue tests.
    seed : int
        Seeds the permutations.
    """
    m = ann.n_annotators
    subset_rate, superset_rate, vs_others, satisficing_p = _coannotator_stats(ann)
    nan = np.full(m, np.nan)
    anchoring_effect, anchoring_p, gamblers_p = nan.copy(), nan.copy(), nan.copy()
    fatigue_rho, fatigue_p, rushing_rho, rushing_p = nan.copy(), nan.copy(), nan.copy(), nan.copy()
    n_labels = ann.labels.sum(axis=1)
    per_label: np.ndarray = nan.copy()
    if ann.lead_time is not None:
        known = np.isfinite(ann.lead_time)
        who = ann.annotator_index[known]
        seconds = np.bincount(who, weights=ann.lead_time[known], minlength=m)
        labels = np.bincount(who, weights=n_labels[known], minlength=m)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_label = np.where(labels > 0, seconds / labels, np.nan)
    if present is not None and ann.created_at is not None:
        rng = np.random.default_rng(seed)
        errors = _errors(ann, present)
        timed = np.flatnonzero(np.isfinite(ann.created_at))
        order = timed[np.lexsort((ann.created_at[timed], ann.annotator_index[timed]))]
        who = ann.annotator_index[order]
        bounds = np.searchsorted(who, np.arange(m + 1))
        for a in range(m):
            rows = order[bounds[a] : bounds[a + 1]]
            if len(rows) < MIN_SEQUENCE:
                continue
            recent = rows[-MAX_SEQUENCE:]
            anchoring_effect[a], anchoring_p[a], gamblers_p[a] = _anchoring(
                ann.labels[recent] - present[ann.task[recent]], rng, permutations
            )
            position = session_positions(ann.created_at[rows]).astype(np.float64)
            fatigue_rho[a], fatigue_p[a] = _spearman(position, errors[rows])
            if ann.lead_time is not None:
                rushing_rho[a], rushing_p[a] = _spearman(-ann.lead_time[rows], errors[rows])
    return AnnotatorBias(
        annotator_ids=ann.annotator_ids,
        subset_rate=subset_rate,
        superset_rate=superset_rate,
        labels_vs_coannotators=vs_others,
        satisficing_p=satisficing_p,
        anchoring_effect=anchoring_effect,
        anchoring_p=anchoring_p,
        gamblers_p=gamblers_p,
        fatigue_rho=fatigue_rho,
        fatigue_p=fatigue_p,
        rushing_rho=rushing_rho,
        rushing_p=rushing_p,
        lead_time_per_label=per_label,
    )


@dataclass(frozen=True)
class ClassBias:
    """Per-class availability-bias statistics, arrays of shape ``(K,)``.

    ``prevalence``: share of labelled tasks given the class. ``expected_prevalence``: the mean
    estimated probability of presence. ``miss_rate``: estimated share of truly present cells
    given absent; ``spurious_rate``: share of given cells estimated absent. ``under_labelled``:
    a rarer-than-median class whose miss rate is at least twice the median class's (and 10%).
    """

    prevalence: np.ndarray
    expected_prevalence: np.ndarray
    miss_rate: np.ndarray
    spurious_rate: np.ndarray
    under_labelled: np.ndarray


def class_bias(given: np.ndarray, present: np.ndarray, rows: np.ndarray | None = None) -> ClassBias:
    """Availability bias per class from given labels and the probability of presence.

    Parameters
    ----------
    given : ndarray of 0/1, shape (n, K)
        Labels the audit treats as given.
    present : ndarray, shape (n, K)
        Estimated probability that each class is truly present.
    rows : ndarray of int, optional
        The labelled tasks (default: every row); read a block at a time, not copied.
    """
    rows = np.arange(len(given)) if rows is None else rows
    n = max(len(rows), 1)

    def sums(cells: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        def block(b: slice) -> np.ndarray:
            return cells(given[rows[b]].astype(bool), present[rows[b]])

        return column_sums(block, len(rows), given.shape[1])  # in row order: the same bits

    truly = sums(lambda g, p: p)
    missed = sums(lambda g, p: np.where(~g, p, 0.0))
    spurious = sums(lambda g, p: np.where(g, 1 - p, 0.0))
    counts = sums(lambda g, p: g).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        miss_rate = np.where(truly > 0, missed / truly, np.nan)
        spurious_rate = np.where(counts > 0, spurious / counts, np.nan)
    prevalence = counts / n
    finite = np.isfinite(miss_rate)
    under = np.zeros(len(counts), dtype=bool)
    if finite.any():
        median_miss = float(np.median(miss_rate[finite]))
        rare = prevalence <= np.median(prevalence)
        under = rare & finite & (miss_rate >= max(0.1, 2 * median_miss))
    return ClassBias(
        prevalence=prevalence,
        expected_prevalence=truly / n,
        miss_rate=miss_rate,
        spurious_rate=spurious_rate,
        under_labelled=under,
    )
