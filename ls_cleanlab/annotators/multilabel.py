"""Multi-label consensus: per-class majority vote and per-class CROWDLAB.

Private helper of :mod:`ls_cleanlab.annotators`; assumes valid input. Each class ``k`` is a
binary problem (present / absent) over the ``U`` annotated tasks; ``p_ik`` is the model's
probability that class ``k`` is present in task ``i`` and ``y_ajk`` annotator ``j``'s vote.

CROWDLAB per class (extending Goh, Tkachenko & Mueller 2022, arXiv:2210.06812, to multi-label):
for a consensus ``c_ik`` (first the majority vote, then the posterior's best label),

* ``A_k``: mean over tasks with >= 2 annotations of the share of annotators agreeing with
  ``c_ik`` (the chance an annotator gives the consensus value of class ``k``);
* ``e_k = max(min(pi_k, 1 - pi_k), 1e-6)``: the error of always answering the more common value,
  ``pi_k`` the consensus prevalence of class ``k``;
* annotator weight, pooled over classes (per-class estimates of rare classes are too noisy):
  ``w_j = max(1 - d_j / mean_k e_k, 1e-6)``, ``d_j`` the rate at which ``j`` disagrees with
  the other annotators of its tasks, per class and per other annotator;
* model weight per class (the model's reliability differs by class):
  ``v_k = max(1 - err_k / e_k, 1e-6) * sqrt(mean n_i)``, ``err_k`` the error of
  ``[p_ik >= 0.5]`` against the consensus;
* posterior ``P(k present | i) = (v_k p_ik + sum_j w_j [A_k if y_ijk else 1 - A_k])
  / (v_k + sum_j w_j)``.

Gold tasks (:class:`~.gold.Known`) keep their gold label and posterior, and ``d_j`` is measured
against gold where ``j`` labelled gold tasks (its share of gold cells it got wrong, with a few
pseudo-tasks at its disagreement with its peers, :meth:`~.gold.Known.disagreement`), so a few
gold tasks can outweigh a majority that is systematically wrong; without gold nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ls_cleanlab.annotators.votes import Votes, key_means
from ls_cleanlab.confident.scores import exponential_moving_average

if TYPE_CHECKING:
    from ls_cleanlab.annotators.gold import Known

__all__ = ["BinaryStats", "crowdlab", "majority", "set_quality"]

CLIP = 1e-6
_BLOCK = 4096  # rows per block in set_quality


@dataclass(frozen=True)
class BinaryStats:
    label: np.ndarray  # (U, K) bool consensus
    posterior: np.ndarray  # (U, K) P(present)
    quality: np.ndarray  # (U,)
    annotator_quality: np.ndarray  # (M,)
    model_weight: np.ndarray | None  # (K,)
    annotator_weight: np.ndarray | None  # (M,)


def yes_votes(votes: Votes) -> np.ndarray:
    """``(U, K)`` number of annotators marking each class present."""
    return votes.yes


def set_quality(
    label: np.ndarray, posterior: np.ndarray, index: np.ndarray | None = None
) -> np.ndarray:
    """``(R,)`` label-set quality of the ``(R, K)`` sets ``label`` against the rows
    ``posterior[index]`` (``index`` None: row for row): the exponential moving average
    (alpha 0.8, worst classes weighing most) of the per-class confidence ``P(given value)``,
    as :func:`ls_cleanlab.confident.label_quality_scores` aggregates multi-label scores.
    Computed in blocks of rows that stay in cache."""
    out = np.empty(len(label))
    for start in range(0, len(label), _BLOCK):
        rows = slice(start, start + _BLOCK)
        p = posterior[rows] if index is None else posterior[index[rows]]
        out[rows] = exponential_moving_average(np.where(label[rows], p, 1 - p), alpha=0.8)
    return out


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Jaccard index of two 0/1 matrices; 1 for two empty sets."""
    inter = np.count_nonzero(a & b, axis=1)
    union = np.count_nonzero(a | b, axis=1)
    out = np.ones(len(a))
    np.divide(inter, union, out=out, where=union > 0)
    return out


def majority(votes: Votes, probs: np.ndarray | None) -> np.ndarray:
    """``(U, K)`` per-class majority vote.

    Ties go to the model (present iff ``p_ik >= 0.5``); without a model to the side whose voters
    agree more, on average, with the untied majority cells; remaining ties to "present" (missed
    labels are the more common multi-label error).
    """
    yes = yes_votes(votes)
    no = votes.count[:, None] - yes
    label = yes > no
    tied = yes == no
    if not tied.any():
        return label
    if probs is not None:
        label[tied] = probs[tied] >= 0.5
        return label
    rows_ok = ~tied[votes.task]
    hit = (votes.labels == label[votes.task]) & rows_ok
    m = votes.n_annotators
    seen = np.bincount(votes.annotator, weights=rows_ok.sum(axis=1), minlength=m)
    good = np.bincount(votes.annotator, weights=hit.sum(axis=1), minlength=m)
    quality = np.full(m, 0.5)
    np.divide(good, seen, out=quality, where=seen > 0)
    q = quality[votes.annotator]
    q_yes = votes.task_sums(votes.labels * q[:, None])
    q_all = votes.task_sums(q)[:, None]
    label[tied] = (q_yes >= q_all - q_yes)[tied]
    return label


def crowdlab(votes: Votes, probs: np.ndarray, known: Known | None = None) -> BinaryStats:
    """Per-class CROWDLAB: majority vote, posterior, best label, posterior again; gold tasks
    (``known``) keep their gold label and posterior."""
    first = majority(votes, probs)
    if known is not None:
        first = known.clamp_label(first)
    post, _, _ = _posterior(votes, probs, first, known)
    label = np.where(post == 0.5, first, post > 0.5)
    if known is not None:
        label = known.clamp_label(label)
    post, model_weight, weights = _posterior(votes, probs, label, known)
    if known is not None:
        post = known.clamp(post)
    quality = set_quality(label, post)
    own = set_quality(votes.labels, post, votes.task)
    m = votes.n_annotators
    label_scores = np.bincount(votes.annotator, weights=own, minlength=m) / np.bincount(
        votes.annotator, minlength=m
    )
    agree = agreement_with(votes, label)
    mean_model = float(np.mean(model_weight))
    adjusted = np.sum(weights) * np.mean(votes.count) / m
    w = mean_model / (mean_model + adjusted)
    annotator = np.where(np.isnan(agree), label_scores, w * label_scores + (1 - w) * agree)
    return BinaryStats(label, post, quality, annotator, model_weight, weights)


def agreement_with(votes: Votes, label: np.ndarray) -> np.ndarray:
    """``(M,)`` mean Jaccard index between each annotator's sets and ``label`` on its tasks
    with >= 2 annotations; NaN for annotators without such tasks."""
    multi = votes.count[votes.task] > 1
    score = jaccard(votes.labels[multi], label[votes.task[multi]])
    return key_means(score, votes.annotator[multi], votes.n_annotators)


def _posterior(
    votes: Votes, probs: np.ndarray, label: np.ndarray, known: Known | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    yes = yes_votes(votes)
    count = votes.count[:, None]
    agree = np.where(label, yes, count - yes) / count
    multi = votes.count > 1
    likely = agree[multi].mean(axis=0)  # (K,)
    prevalence = label[multi].mean(axis=0)
    base = np.maximum(np.minimum(prevalence, 1 - prevalence), CLIP)
    weights = _annotator_weights(votes, yes, float(base.mean()), known)
    model_error = ((probs[multi] >= 0.5) != label[multi]).mean(axis=0)
    model_weight = np.maximum(1 - model_error / base, CLIP) * np.sqrt(np.mean(votes.count))
    w = weights[votes.annotator]
    total = votes.task_sums(w)[:, None]
    u, k = label.shape
    rows, cols = votes.marked  # weight of the "present" votes, from the sparse present cells
    w_yes = np.bincount(votes.task[rows] * k + cols, weights=w[rows], minlength=u * k)
    w_yes = w_yes.reshape(u, k)
    votes_sum = w_yes * likely + (total - w_yes) * (1 - likely)
    post = (model_weight * probs + votes_sum) / (model_weight + total)
    return np.clip(post, 0.0, 1.0), model_weight, weights


def _annotator_weights(
    votes: Votes, yes: np.ndarray, base: float, known: Known | None = None
) -> np.ndarray:
    """``(M,)`` ``max(1 - d_j / base, 1e-6)``: ``d_j`` the share of (other annotator, class)
    pairs on ``j``'s tasks where the other annotator's vote differs from ``j``'s, measured
    against gold where ``j`` labelled gold tasks (``known``)."""
    # annotation a of task t disagrees with sum_k [y_ak (n_t - yes_tk) + (1 - y_ak) yes_tk]
    # others = S_t + n_t |y_a| - 2 sum_k y_ak yes_tk, with S_t = sum_k yes_tk
    n = votes.count[votes.task]
    k = votes.n_classes
    rows, cols = votes.marked
    size = np.bincount(rows, minlength=len(n))
    overlap = np.bincount(rows, weights=yes[votes.task[rows], cols], minlength=len(n))
    disagree = (yes.sum(axis=1)[votes.task] + n * size - 2 * overlap).astype(np.float64)
    m = votes.n_annotators
    pairs = np.bincount(votes.annotator, weights=(n - 1) * k, minlength=m)
    bad = np.bincount(votes.annotator, weights=disagree, minlength=m)
    rate = np.full(m, np.nan)
    np.divide(bad, pairs, out=rate, where=pairs > 0)
    seen = ~np.isnan(rate)
    if seen.any():
        rate[~seen] = rate[seen].mean()
    else:
        rate[:] = 0.0
    if known is not None:
        rate = known.disagreement(votes, rate)
    return np.maximum(1 - rate / base, CLIP)
