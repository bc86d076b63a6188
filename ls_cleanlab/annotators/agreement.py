"""Inter-annotator agreement: pairwise Jaccard and Krippendorff's alpha, vectorized.

:func:`agreement` validates its inputs; the helpers below assume valid input.

Krippendorff's alpha for nominal data (Krippendorff 2011, "Computing Krippendorff's
Alpha-Reliability", Annenberg School for Communication, University of Pennsylvania): over the
units (tasks) with ``m_u >= 2`` values, with ``n_uc`` the number of values ``c`` in unit ``u``,
``n_c = sum_u n_uc`` and ``n = sum_c n_c``,

``alpha = 1 - (n - 1) * sum_u (m_u^2 - sum_c n_uc^2) / (m_u - 1) / (n^2 - sum_c n_c^2)``,

undefined (NaN) when all pairable values are equal or nothing is pairable. A class of a
multi-label project has the two values present / absent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ls_cleanlab.annotations import Annotations, check_annotations
from ls_cleanlab.annotators.blocks import column_sums
from ls_cleanlab.annotators.multilabel import jaccard, yes_votes
from ls_cleanlab.annotators.votes import Votes

__all__ = ["Agreement", "PairStats", "agreement", "alpha_binary", "alpha_nominal", "pair_stats"]


@dataclass(frozen=True)
class Agreement:
    """How much annotators agree, per task, per class, overall and per pair of annotators.

    Attributes
    ----------
    per_task : ndarray of float, shape (n,)
        Mean Jaccard index over the pairs of annotations of each task (the Jaccard index of two
        empty sets is 1; single-label: the share of agreeing pairs); NaN with < 2 annotations.
    per_class_alpha : ndarray of float, shape (K,)
        Krippendorff's alpha of each class as a binary (present / absent) variable; NaN where
        undefined (no pairable annotations, or all of them equal).
    alpha : float
        Multi-label: alpha of all (task, class) cells pooled as one binary variable. Single-label:
        alpha with the classes as the values of one nominal variable.
    pairwise : ndarray of float, shape (M, M)
        Mean Jaccard index between two annotators over their shared tasks; NaN if they share
        none; 1 on the diagonal.
    shared : ndarray of int, shape (M, M)
        Number of tasks two annotators share; the diagonal holds each annotator's task count.
    annotator_ids : ndarray, shape (M,)
    """

    per_task: np.ndarray
    per_class_alpha: np.ndarray
    alpha: float
    pairwise: np.ndarray
    shared: np.ndarray
    annotator_ids: np.ndarray


@dataclass(frozen=True)
class PairStats:
    per_task: np.ndarray  # (U,) mean pairwise Jaccard, NaN with < 2 annotations
    pairwise: np.ndarray  # (M, M)
    shared: np.ndarray  # (M, M) int


def pair_stats(votes: Votes) -> PairStats:
    """Jaccard index of every pair of annotations of the same task, summed per task and per
    pair of annotators. Pairs are found as rows ``d`` apart in the task-sorted table."""
    m = votes.n_annotators
    task_sum = np.zeros(votes.n_units)
    pair_sum = np.zeros(m * m)
    shared = np.zeros(m * m, dtype=np.int64)
    max_count = int(votes.count.max(initial=0))
    for d in range(1, max_count):
        first = np.flatnonzero(votes.task[:-d] == votes.task[d:])
        second = first + d
        score = jaccard(votes.labels[first], votes.labels[second])
        task_sum += np.bincount(votes.task[first], weights=score, minlength=votes.n_units)
        a, b = votes.annotator[first], votes.annotator[second]
        for key in (a * m + b, b * m + a):
            pair_sum += np.bincount(key, weights=score, minlength=m * m)
            shared += np.bincount(key, minlength=m * m)
    n_pairs = votes.count * (votes.count - 1) / 2
    per_task = np.full(votes.n_units, np.nan)
    np.divide(task_sum, n_pairs, out=per_task, where=n_pairs > 0)
    flat = np.full(m * m, np.nan)
    np.divide(pair_sum, shared, out=flat, where=shared > 0)
    pairwise = flat.reshape(m, m)
    counts = shared.reshape(m, m)
    diag = np.arange(m)
    pairwise[diag, diag] = 1.0
    counts[diag, diag] = np.bincount(votes.annotator, minlength=m)
    return PairStats(per_task, pairwise, counts)


def _alpha(disagreement: np.ndarray, total: np.ndarray, expected: np.ndarray) -> np.ndarray:
    out = np.full(np.shape(expected), np.nan)
    np.divide((total - 1) * disagreement, expected, out=out, where=expected > 0)
    return np.where(expected > 0, 1 - out, np.nan)


def alpha_binary(votes: Votes) -> tuple[np.ndarray, float]:
    """Per-class alpha ``(K,)`` and the alpha of all (task, class) cells pooled."""
    everyone = yes_votes(votes)
    pairable = np.flatnonzero(votes.count > 1)

    def sums(cells: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        def block(rows: slice) -> np.ndarray:
            units = pairable[rows]
            m = votes.count[units].astype(np.float64)[:, None]
            return cells(everyone[units].astype(np.float64), m)

        return column_sums(block, len(pairable), votes.n_classes)  # a block of tasks at a time

    # (K,) sum_u (m^2 - yes^2 - no^2)/(m-1)
    observed = sums(lambda yes, m: 2 * yes * (m - yes) / (m - 1))
    ones, zeros = sums(lambda yes, m: yes), sums(lambda yes, m: m - yes)
    total = ones + zeros
    per_class = _alpha(observed, total, 2 * ones * zeros)
    pooled = _alpha(
        np.asarray(observed.sum()),
        np.asarray(total.sum()),
        np.asarray(2 * ones.sum() * zeros.sum()),
    )
    return per_class, float(pooled)


def alpha_nominal(votes: Votes) -> float:
    """Alpha of single-label data, the classes as the nominal values."""
    yes = yes_votes(votes).astype(np.float64)
    pairable = votes.count > 1
    yes = yes[pairable]
    m = yes.sum(axis=1)
    observed = ((m**2 - (yes**2).sum(axis=1)) / (m - 1)).sum()
    n_c = yes.sum(axis=0)
    total = n_c.sum()
    return float(
        _alpha(np.asarray(observed), np.asarray(total), np.asarray(total**2 - (n_c**2).sum()))
    )


def agreement(annotations: Annotations, n_tasks: int) -> Agreement:
    """Inter-annotator agreement: per task, per class, overall and per pair of annotators.

    Single-label projects (every annotation one class) get the nominal alpha as ``alpha``;
    see :class:`Agreement` for the definitions. Nothing is pairable when no task has two
    annotations: then every value is NaN (no error).

    Parameters
    ----------
    annotations : Annotations
    n_tasks : int

    Returns
    -------
    Agreement
    """
    n = check_annotations(annotations, n_tasks)
    votes = Votes.from_annotations(annotations)
    pairs = pair_stats(votes)
    per_task = np.full(n, np.nan)
    per_task[votes.tasks] = pairs.per_task
    per_class, pooled = alpha_binary(votes)
    if annotations.is_single_label:
        pooled = alpha_nominal(votes)
    return Agreement(
        per_task=per_task,
        per_class_alpha=per_class,
        alpha=pooled,
        pairwise=pairs.pairwise,
        shared=pairs.shared,
        annotator_ids=annotations.annotator_ids,
    )
