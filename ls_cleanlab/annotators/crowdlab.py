"""Single-label CROWDLAB and majority vote, operation for operation as cleanlab 2.9.0.

Private helper of :mod:`ls_cleanlab.annotators`; everything here assumes valid input (see
:class:`.votes.Votes`: ``U`` annotated tasks, ``M`` annotators, ``K`` classes).

CROWDLAB (Goh, Tkachenko & Mueller 2022, "CROWDLAB: Supervised learning to infer consensus labels
and quality scores for data with multiple annotators", arXiv:2210.06812): with a consensus label
``c_i`` per task, ``A`` the mean share of annotators agreeing with it on tasks with several
annotations, and ``e_0`` the error of always answering the most common consensus class,

* annotator weight ``w_j = max(1 - (1 - agree_j) / e_0, 1e-6)`` where ``agree_j`` is the share of
  other annotators agreeing with ``j`` on its tasks, weighted by ``n_i - 1``;
* model weight ``w_M = max(1 - err_M / e_0, 1e-6) * sqrt(mean n_i)``;
* posterior ``P(k | i) = (w_M p_ik + sum_j w_j [A if y_ij = k else (1 - A)/(K - 1)])
  / (w_M + sum_j w_j)``.

With gold (:class:`~.gold.Known`), the gold tasks' consensus and posterior are their gold label
and ``agree_j`` is measured against gold where ``j`` labelled gold tasks
(:meth:`~.gold.Known.agreement`); without gold nothing changes.

Sums run over a task's annotations in annotator order and means use numpy's own reductions on
the same arrays as cleanlab, so values are bit-equal and exact ties are detected identically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ls_cleanlab.annotators.votes import Votes, key_means

if TYPE_CHECKING:
    from ls_cleanlab.annotators.gold import Known

__all__ = [
    "ConsensusStats",
    "annotator_quality",
    "best_quality",
    "consensus_stats",
    "majority",
    "packed_counts",
]

CLIP = 1e-6  # cleanlab's CLIPPING_LOWER_BOUND


@dataclass(frozen=True)
class ConsensusStats:
    """What cleanlab's ``_get_consensus_stats`` returns for one consensus labelling."""

    label: np.ndarray  # (U,) consensus class
    agreement: np.ndarray  # (U,) share of a task's annotators choosing the consensus class
    quality: np.ndarray  # (U,) consensus quality score
    posterior: np.ndarray  # (U, K)
    label_quality: np.ndarray  # (A,) quality of each annotation under the posterior
    model_weight: float | None
    annotator_weight: np.ndarray | None  # (M,)


def vote_counts(votes: Votes) -> np.ndarray:
    """``(U, K)`` float number of annotators choosing each class."""
    k = votes.n_classes
    y = votes.class_index()
    flat = np.bincount(votes.task * k + y, minlength=votes.n_units * k)
    return flat.reshape(votes.n_units, k).astype(np.float64)


def majority(votes: Votes, probs: np.ndarray | None) -> np.ndarray:
    """Majority vote with cleanlab's tie-breaks: model, rarer class, better annotators.

    Ties left after the three tie-breaks (cleanlab picks at random) go to the lowest class.
    Returns ``(U,)`` class indices.
    """
    counts = vote_counts(votes)
    cand = counts == counts.max(axis=1, keepdims=True)
    unique = cand.sum(axis=1) == 1
    if probs is not None:
        cand = _narrow(cand, np.where(cand, probs, -np.inf), np.max)
    if (cand.sum(axis=1) > 1).any():
        cand = _narrow(cand, np.where(cand, counts.sum(axis=0), np.inf), np.min)
    tied = cand.sum(axis=1) > 1
    if tied.any():
        first = np.argmax(counts, axis=1)
        agree = _agreement_on(votes, first, unique)
        known = ~np.isnan(agree)
        if known.any():  # else cleanlab fails; we fall through to the lowest class
            agree[~known] = np.mean(agree[known])
            cand = _by_annotators(votes, cand, tied, counts, agree)
    return np.argmax(cand, axis=1)


def _by_annotators(
    votes: Votes, cand: np.ndarray, tied: np.ndarray, counts: np.ndarray, agree: np.ndarray
) -> np.ndarray:
    """Tie-break 3: the candidate class whose voters agree most with the untied majority;
    returns the narrowed candidates (``cand`` is not modified)."""
    key = votes.task * counts.shape[1] + votes.class_index()
    sums = np.bincount(key, weights=agree[votes.annotator], minlength=counts.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums.reshape(counts.shape) / counts  # sequential sums, as np.mean for < 8 votes
    sub = cand[tied]
    out = cand.copy()
    out[tied] = _narrow(sub, np.where(sub, mean[tied], -np.inf), np.max)
    return out


def _narrow(cand: np.ndarray, score: np.ndarray, best: Any) -> np.ndarray:
    """The candidates with, among a row's tied ones, only those of best score kept (a copy)."""
    rows = cand.sum(axis=1) > 1
    top = best(score[rows], axis=1, keepdims=True)
    out = cand.copy()
    out[rows] &= score[rows] == top
    return out


def _agreement_on(votes: Votes, label: np.ndarray, tasks: np.ndarray) -> np.ndarray:
    """``(M,)`` share of each annotator's labels on ``tasks`` (mask) equal to ``label``; NaN
    for annotators without such tasks."""
    rows = tasks[votes.task]
    hit = votes.class_index()[rows] == label[votes.task[rows]]
    return key_means(hit, votes.annotator[rows], votes.n_annotators)


def agreement_with_annotators(votes: Votes, counts: np.ndarray) -> np.ndarray:
    """``(M,)`` cleanlab's ``_get_annotator_agreement_with_annotators``: per annotator, the
    share of the other annotators of its tasks who chose its class, weighted by ``n_i - 1``;
    annotators sharing no task get the mean of the others."""
    y = votes.class_index()
    n = votes.count[votes.task]
    same = counts[votes.task, y]
    per_task = np.zeros(len(y))
    multi = n > 1
    per_task[multi] = (same[multi] - 1) / (n[multi] - 1)
    weight = n - 1
    out = np.full(votes.n_annotators, np.nan)
    for m, rows in enumerate(votes.by_annotator()):
        if weight[rows].sum() > 0:
            out[m] = np.average(per_task[rows], weights=weight[rows])
    missing = np.isnan(out)
    if missing.any() and not missing.all():
        out[missing] = np.mean(out[~missing])
    return out


def consensus_stats(
    votes: Votes,
    probs: np.ndarray | None,
    label: np.ndarray,
    quality_method: str,
    score: Any = None,
    *,
    packed: bool = False,
    known: Known | None = None,
) -> ConsensusStats:
    """cleanlab's ``_get_consensus_stats`` for consensus ``label``; ``score(labels, probs)``
    scores labels against probabilities (self-confidence by default); ``probs`` is needed for
    ``quality_method="crowdlab"`` only.

    ``packed=True`` reproduces cleanlab 2.9.0's ``quality_method="agreement"`` posterior, whose
    ``value_counts`` of float labels puts the counts of a task's chosen classes in the first
    columns (``[1, 1, 1]`` of 3 classes counts as ``[3, 0, 0]``) unless all classes occur;
    only :func:`ls_cleanlab.annotators.multiannotator_quality` asks for it. ``known`` (gold) is
    clamped into the posterior and measures the annotator weights (CROWDLAB only)."""
    y = votes.class_index()
    hits = np.bincount(votes.task, weights=(y == label[votes.task]), minlength=votes.n_units)
    agreement = hits / votes.count
    counts = vote_counts(votes)
    model_weight: float | None = None
    weights: np.ndarray | None = None
    if quality_method == "crowdlab":
        assert probs is not None
        posterior, model_weight, weights = _crowdlab_posterior(
            votes, probs, label, agreement, counts, known
        )
        quality = (
            posterior[np.arange(len(label)), label] if score is None else score(label, posterior)
        )
    else:
        shown = packed_counts(counts) if packed else counts
        posterior = shown / votes.count[:, None]
        quality = agreement
    if score is None:
        label_quality = posterior[votes.task, y]
    else:
        label_quality = np.empty(len(y))
        for rows in votes.by_annotator():
            label_quality[rows] = score(y[rows], posterior[votes.task[rows]])
    return ConsensusStats(
        label, agreement, quality, posterior, label_quality, model_weight, weights
    )


def packed_counts(counts: np.ndarray) -> np.ndarray:
    """Each row's non-zero counts moved to the front, in class order."""
    present = counts > 0
    rows, _ = np.nonzero(present)
    column = np.cumsum(present, axis=1)[present] - 1
    out = np.zeros_like(counts)
    out[rows, column] = counts[present]
    return out


def _crowdlab_posterior(
    votes: Votes,
    probs: np.ndarray,
    label: np.ndarray,
    agreement: np.ndarray,
    counts: np.ndarray,
    known: Known | None = None,
) -> tuple[np.ndarray, float, np.ndarray]:
    k = probs.shape[1]
    multi = votes.count != 1
    likely = np.mean(agreement[multi])
    unlikely = (1 - likely) / (k - 1)
    sub = label[multi]
    base_error = np.clip(np.mean(sub != np.argmax(np.bincount(sub, minlength=k))), CLIP, None)
    agree = agreement_with_annotators(votes, counts)
    if known is not None:
        agree = known.agreement(votes, agree)
    weights = np.clip(1 - ((1 - agree) / base_error), CLIP, None)
    model_error = np.mean(np.argmax(probs[multi], axis=1) != sub)
    model_weight = np.max([(1 - (model_error / base_error)), CLIP]) * np.sqrt(np.mean(votes.count))
    posterior = probs * model_weight
    total = np.zeros(votes.n_units)
    y = votes.class_index()
    for rows in votes.by_rank():
        w = weights[votes.annotator[rows]]
        add = np.repeat((w * unlikely)[:, None], k, axis=1)
        add[np.arange(len(rows)), y[rows]] = w * likely
        posterior[votes.task[rows]] += add
        total[votes.task[rows]] += w
    total = total + model_weight
    posterior /= total[:, None]
    if known is not None:
        posterior = known.clamp(posterior)
    return posterior, float(model_weight), weights


def best_quality(majority_label: np.ndarray, posterior: np.ndarray) -> np.ndarray:
    """The class of highest posterior; the majority label where the maximum is tied."""
    top = posterior == posterior.max(axis=1, keepdims=True)
    return np.where(top.sum(axis=1) == 1, np.argmax(posterior, axis=1), majority_label)


def annotator_quality(
    votes: Votes,
    stats: ConsensusStats,
    quality_method: str,
    label_scores: np.ndarray | None = None,
) -> np.ndarray:
    """``(M,)`` cleanlab's ``_get_annotator_quality``: NaN for annotators who share no task.

    ``label_scores`` ``(M,)`` replaces the per-annotator mean of ``stats.label_quality``."""
    m = votes.n_annotators
    y = votes.class_index()
    multi = votes.count[votes.task] != 1
    hit = y == stats.label[votes.task]
    agree = key_means(hit[multi], votes.annotator[multi], m)
    if quality_method != "crowdlab":
        return agree
    assert stats.model_weight is not None and stats.annotator_weight is not None
    if label_scores is None:
        label_scores = key_means(stats.label_quality, votes.annotator, m)
    frac = np.mean(votes.count) / len(stats.annotator_weight)
    adjusted = np.sum(stats.annotator_weight) * frac
    w = stats.model_weight / (stats.model_weight + adjusted)
    return w * label_scores + (1 - w) * agree
