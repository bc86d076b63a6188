"""Which task to label next: the value of one more annotation, for multi-label and single-label
tasks, labelled or not.

ActiveLab (Goh & Mueller 2023, "ActiveLab: Active learning with re-labeling by multiple
annotators", arXiv:2301.11856; cleanlab's ``get_active_learning_scores``) ranks tasks by how sure
the consensus of the model and the annotators is, shrunk toward chance by how little evidence a
task has, so that a second opinion on a doubtful label competes with a first label on an
unlabelled task. It covers single-label data only. Here the same question is answered for each
class of a multi-label task, as the expected gain from one more annotation by a typical
annotator, which puts labelled and unlabelled tasks on one scale.

**The consensus.** For class ``k`` of task ``i`` the model's probability ``p`` (out-of-sample for
labelled tasks, so it never saw their votes) is the prior, and each vote is evidence from a
typical annotator who marks a present class with probability ``s_k`` (sensitivity) and an absent
one with probability ``f_k`` (false-positive rate):

    logit pi = logit p + sum_j [ y_jk log(s_k / f_k) + (1 - y_jk) log((1 - s_k) / (1 - f_k)) ].

The rates are fitted by EM (Dawid & Skene 1979, one coin per class, the model as the prior),
learning only from tasks with at least two annotations: a lone vote always agrees with the
posterior it dominates, so counting it would make every annotator look perfect. Over the
annotations ``j`` of those tasks the M-step is

    s_k = (sum_j pi_{t_j k} y_jk + m s_0) / (sum_j pi_{t_j k} + m),
    f_k = (sum_j (1 - pi_{t_j k}) y_jk + m f_0) / (sum_j (1 - pi_{t_j k}) + m),

with ``m = 10`` pseudo-annotations at the prior rates ``s_0 = 0.9``, ``f_0 = 0.05`` (all there
is until some task has two annotations). The same annotator model predicts the next vote, so
posterior and value agree with each other.

**The value.** The consensus decides the cell at 1/2, so it is wrong with probability
``e = min(pi, 1 - pi)``. After one more vote the posterior moves by Bayes' rule and the expected
error becomes

    E[e'] = min(pi s, (1 - pi) f) + min(pi (1 - s), (1 - pi) (1 - f))   <=  e

(each of the vote's two outcomes decided by the larger joint probability). Votes on different
classes are independent given the truth, so the probability that the task's whole label set is
right rises from ``prod_k (1 - e_k)`` to ``prod_k (1 - E[e'_k])``; the difference is the task's
*value*, in [0, 1]. A task the model and its annotators agree on is worth little; an unlabelled
task the model is unsure of, or a labelled one whose annotators or model disagree, is worth much.

**The ranking** uses ``cells``, the expected number of class decisions one more annotation
corrects, ``sum_k (e_k - E[e'_k])``: by linearity of expectation it needs no assumption about
how errors on different classes go together, and ``value``'s product does. Annotators' misses
cluster (a careless annotator misses several classes of the same task; tasks with many classes
lose more), so the product underrates how often a task with one vote is entirely right: on
yeast with one vote per task it predicted 0.45 of the label sets right where 0.57 were, while
the expected number of wrong classes, 0.83 per task, was close to the 0.92 found. Ranked by
``value``, labelled tasks there looked worth second opinions more than unlabelled ones a first
label (worth far more: the model gets almost no yeast label set right), and the ordering never
reached the random one's accuracy; ranked by ``cells`` it needs 40% fewer annotations, and no
fewer savings on the other sets (``benchmarks/bench_active.py``).

One vote that cannot flip any decision on its own is worth 0 by this (myopic) measure, though it
brings the flip closer. ``soft_value`` measures the same gain with the smooth error
``2 pi (1 - pi)`` of a label drawn from the posterior, ``E[e'] = 2 pi (1 - pi) [s f / P(1) +
(1 - s)(1 - f) / P(0)]`` with ``P(1) = pi s + (1 - pi) f``; :meth:`AnnotationValue.ranking`
orders by ``cells`` and breaks its ties by ``value``, then by ``soft_value``.

Single-label tasks use the same reasoning over the ``K`` classes with a symmetric annotator of
accuracy ``a`` (each wrong class chosen with probability ``w = (1 - a) / (K - 1)``): the
posterior is ``pi_c ∝ p_c prod_j P(y_j | c)``, the decision its most likely class, and the value
``sum_v max_c pi_c P(v | c) - max_c pi_c``; with a label drawn from the posterior instead
(``soft_value``), ``e = 1 - sum_c pi_c^2`` and after a vote ``v`` (probability
``P(v) = a pi_v + w (1 - pi_v)``) ``E[e'] = 1 - sum_v (a^2 pi_v^2 + w^2 (S - pi_v^2)) / P(v)``
with ``S = sum_c pi_c^2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators.active_fit import EPS as _EPS
from ls_cleanlab.annotators.active_fit import (
    PRIOR_FALSE_POSITIVE_RATE,
    PRIOR_SENSITIVITY,
    TOL,
    add_votes,
    fit_multi,
    logit,
    sigmoid,
)
from ls_cleanlab.annotators.blocks import row_blocks
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError
from ls_cleanlab.validation import check_int, check_real

__all__ = [
    "PRIOR_FALSE_POSITIVE_RATE",
    "PRIOR_SENSITIVITY",
    "AnnotationValue",
    "annotation_cells",
    "annotation_value",
    "cell_error_after_vote",
    "cells_corrected",
    "multi_label_posterior",
    "multi_label_value",
    "single_label_posterior",
    "single_label_value",
]

#: Weight of the prior rates (:data:`.active_fit.PRIOR_SENSITIVITY`,
#: :data:`.active_fit.PRIOR_FALSE_POSITIVE_RATE`) in pseudo-annotations.
PRIOR_WEIGHT = 10.0
#: EM iterations for the rates (they settle in a handful; :data:`.active_fit.TOL` stops them).
MAX_ITER = 50


@dataclass(frozen=True)
class AnnotationValue:
    """What one more annotation is worth, per task. Arrays over ``n`` tasks and ``K`` classes.

    Attributes
    ----------
    value : ndarray, shape (n,)
        Expected rise, in [0, 1], of the probability that the task's consensus labels are right
        after one more annotation by a typical annotator.
    soft_value : ndarray, shape (n,)
        The same gain for labels drawn from the posterior (smooth; breaks ties of ``value``).
    p_right : ndarray, shape (n,)
        Probability that the task's consensus labels (the posterior decided at 1/2;
        single-label: its most likely class) are right now.
    posterior : ndarray, shape (n, K)
        ``P(class present | model, annotations)``; single-label rows sum to 1.
    sensitivity, false_positive_rate : ndarray, shape (K,)
        The typical annotator: ``P(marks k | k present)`` and ``P(marks k | k absent)``
        (single-label: the accuracy, and ``(1 - accuracy) / (K - 1)``).
    multi_label : bool
    cells : ndarray, shape (n,)
        Expected number of class decisions (multi-label: present or absent, per class;
        single-label: the class) that one more annotation turns from wrong to right. Rank tasks
        by it, highest first (:meth:`ranking`).
    """

    value: np.ndarray
    soft_value: np.ndarray
    p_right: np.ndarray
    posterior: np.ndarray
    sensitivity: np.ndarray
    false_positive_rate: np.ndarray
    multi_label: bool
    cells: np.ndarray

    def ranking(self) -> np.ndarray:
        """Task indices, most valuable first (``cells``, ties broken by ``value``, then by
        ``soft_value``)."""
        return np.lexsort((-self.soft_value, -self.value, -self.cells))


def annotation_value(
    pred_probs: Any,
    annotations: Annotations | None = None,
    *,
    multi_label: bool = True,
    prior_weight: float = PRIOR_WEIGHT,
    max_iter: int = MAX_ITER,
) -> AnnotationValue:
    """The value of one more annotation for every task (see the module docs).

    Parameters
    ----------
    pred_probs : array_like, shape (n, K)
        The model's probabilities: out-of-sample for labelled tasks (they must not have seen the
        task's votes), the trained model's for the others. Single-label rows sum to 1.
    annotations : Annotations, optional
        The annotations so far (task indices into ``pred_probs``); without them every task is
        judged on the model alone and the typical annotator has the prior rates.
    multi_label : bool
    prior_weight : float
        Pseudo-annotations at the prior rates.
    max_iter : int
        EM iterations at most.

    Returns
    -------
    AnnotationValue
    """
    probs, ann = _checked(pred_probs, annotations, multi_label)
    weight = check_real(prior_weight, "prior_weight", low=0.0, open_low=True)
    iterations = check_int(max_iter, "max_iter", low=1)
    if multi_label:
        z, sens, fpr = fit_multi(probs, ann, weight, iterations)
        pi = sigmoid(z)
        del z
        value, soft, right = multi_label_value(pi, sens, fpr)
        cells = cells_corrected(pi, sens, fpr)
    else:
        pi, accuracy = _fit_single(probs, ann, weight, iterations)
        value, soft, right = single_label_value(pi, accuracy)
        k = probs.shape[1]
        sens, fpr = np.full(k, accuracy), np.full(k, (1 - accuracy) / (k - 1))
        cells = value  # one decision per task
    return AnnotationValue(value, soft, right, pi, sens, fpr, multi_label, cells)


def annotation_cells(
    pred_probs: Any, annotations: Annotations | None = None, *, multi_label: bool = True
) -> np.ndarray:
    """``annotation_value(pred_probs, annotations, multi_label=...).cells``, the same to the
    bit, without the other arrays: multi-label, the posterior is taken a block of tasks at a
    time from the fit's log-odds."""
    if not multi_label:
        return annotation_value(pred_probs, annotations, multi_label=False).cells
    probs, ann = _checked(pred_probs, annotations, multi_label)
    z, sens, fpr = fit_multi(probs, ann, PRIOR_WEIGHT, MAX_ITER)
    cells = np.empty(len(z))
    for rows in row_blocks(len(z), z.shape[1]):
        cells[rows] = cells_corrected(sigmoid(z[rows]), sens, fpr)
    return cells


def _checked(
    pred_probs: Any, annotations: Annotations | None, multi_label: bool
) -> tuple[np.ndarray, Annotations | None]:
    """The probabilities and the annotations (None when there are none), checked."""
    probs = _check_probs(pred_probs, multi_label)
    ann = None
    if annotations is not None:
        ann = _check_annotations(annotations, probs.shape)
        if len(ann) == 0:
            ann = None
    return probs, ann


# -- multi-label ----------------------------------------------------------------------------------


def multi_label_posterior(
    probs: np.ndarray, annotations: Annotations | None, sens: np.ndarray, fpr: np.ndarray
) -> np.ndarray:
    """``P(present | model, votes)`` (n, K): the model's log-odds plus each vote's (see the
    module docs); inputs assumed valid."""
    z = logit(probs)
    if annotations is not None:
        add_votes(z, annotations, sens, fpr)
    return sigmoid(z)


def cell_error_after_vote(
    posterior: np.ndarray, sensitivity: np.ndarray, false_positive_rate: np.ndarray
) -> np.ndarray:
    """``E[min(pi', 1 - pi')]`` after one binary vote, elementwise (see the module docs).

    Parameters
    ----------
    posterior : ndarray, shape (n, K)
    sensitivity, false_positive_rate : ndarray, shape (K,)
    """
    pi, s, f = posterior, sensitivity[None, :], false_positive_rate[None, :]
    return np.minimum(pi * s, (1 - pi) * f) + np.minimum(pi * (1 - s), (1 - pi) * (1 - f))


def cells_corrected(
    posterior: np.ndarray, sensitivity: np.ndarray, false_positive_rate: np.ndarray
) -> np.ndarray:
    """``sum_k (e_k - E[e'_k])`` (n,): the expected number of a task's class decisions that one
    more vote corrects (see the module docs); rates (K,)."""
    now = np.minimum(posterior, 1 - posterior)
    after = cell_error_after_vote(posterior, sensitivity, false_positive_rate)
    return np.clip(now - after, 0.0, None).sum(axis=1)


def _soft_error_after_vote(pi: np.ndarray, sens: np.ndarray, fpr: np.ndarray) -> np.ndarray:
    s = np.clip(sens, _EPS, 1 - _EPS)[None, :]
    f = np.clip(fpr, _EPS, 1 - _EPS)[None, :]
    yes = pi * s + (1 - pi) * f
    return 2 * pi * (1 - pi) * (s * f / yes + (1 - s) * (1 - f) / (1 - yes))


def _gain(now: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``prod(1 - after) - prod(1 - now)`` per row, clipped to [0, 1]."""
    after = np.minimum(after, now)  # never above, up to rounding
    right = np.exp(np.log1p(-now).sum(axis=1))
    return np.clip(np.exp(np.log1p(-after).sum(axis=1)) - right, 0.0, 1.0)


def multi_label_value(
    pi: np.ndarray, sens: np.ndarray, fpr: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(value, soft_value, p_right)`` of tasks with posterior ``pi`` (n, K) for an annotator
    of rates ``sens``, ``fpr`` (K,); inputs assumed valid."""
    now = np.minimum(pi, 1 - pi)
    value = _gain(now, cell_error_after_vote(pi, sens, fpr))
    soft = _gain(2 * pi * (1 - pi), _soft_error_after_vote(pi, sens, fpr))
    return value, soft, np.exp(np.log1p(-now).sum(axis=1))


# -- single-label ---------------------------------------------------------------------------------


def _single_log_evidence(
    annotations: Annotations, n: int, k: int, accuracy: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per task the log-likelihood of its votes under each class, (n, K), and each vote's
    class index, (A,)."""
    a = float(np.clip(accuracy, _EPS, 1 - _EPS))
    wrong = (1 - a) / (k - 1)
    chosen = np.argmax(annotations.labels, axis=1)
    votes = np.zeros((n, k))
    np.add.at(votes, (annotations.task, chosen), 1.0)
    total = votes.sum(axis=1, keepdims=True)
    return votes * np.log(a) + (total - votes) * np.log(wrong), chosen


def _normalized(log: np.ndarray) -> np.ndarray:
    out = np.exp(log - log.max(axis=1, keepdims=True))
    return out / out.sum(axis=1, keepdims=True)


def single_label_posterior(
    probs: np.ndarray, annotations: Annotations | None, accuracy: float
) -> np.ndarray:
    """``P(class | model, votes)`` (n, K), rows summing to 1, for a symmetric annotator of the
    given accuracy; inputs assumed valid."""
    log = np.log(np.clip(probs, _EPS, 1.0))
    if annotations is not None:
        n, k = probs.shape
        log = log + _single_log_evidence(annotations, n, k, accuracy)[0]
    return _normalized(log)


def _fit_single(
    probs: np.ndarray, ann: Annotations | None, weight: float, max_iter: int
) -> tuple[np.ndarray, float]:
    accuracy = PRIOR_SENSITIVITY
    if ann is None:
        return single_label_posterior(probs, None, accuracy), accuracy
    n, k = probs.shape
    shared = np.flatnonzero(np.bincount(ann.task, minlength=n)[ann.task] >= 2)
    prior = np.log(np.clip(probs, _EPS, 1.0))
    for _ in range(max_iter):
        evidence, chosen = _single_log_evidence(ann, n, k, accuracy)
        others = _normalized((prior + evidence)[ann.task[shared]])
        agree = others[np.arange(len(shared)), chosen[shared]].sum()
        new = float((agree + weight * PRIOR_SENSITIVITY) / (len(shared) + weight))
        change, accuracy = abs(new - accuracy), new
        if change < TOL:
            break
    return single_label_posterior(probs, ann, accuracy), accuracy


def single_label_value(
    pi: np.ndarray, accuracy: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(value, soft_value, p_right)`` of single-label tasks with posterior ``pi`` (n, K) for a
    symmetric annotator of the given accuracy; inputs assumed valid."""
    k = pi.shape[1]
    a = float(np.clip(accuracy, _EPS, 1 - _EPS))
    wrong = (1 - a) / (k - 1)
    order = np.argsort(-pi, axis=1)
    best = np.take_along_axis(pi, order[:, :1], axis=1)[:, 0]
    second = np.take_along_axis(pi, order[:, 1:2], axis=1)[:, 0]
    # for a vote v: max(a pi_v, wrong * max_{c != v} pi_c); the top class's runner-up is second
    others = np.where(np.arange(k)[None, :] == order[:, :1], second[:, None], best[:, None])
    value = np.maximum(a * pi, wrong * others).sum(axis=1) - best
    squares = (pi**2).sum(axis=1, keepdims=True)
    vote = a * pi + wrong * (1 - pi)  # P(v), (n, K)
    soft = ((a**2 * pi**2 + wrong**2 * (squares - pi**2)) / vote).sum(axis=1) - squares[:, 0]
    return np.clip(value, 0.0, 1.0), np.clip(soft, 0.0, 1.0), best


# -- checks ---------------------------------------------------------------------------------------


def _check_probs(pred_probs: Any, multi_label: bool) -> np.ndarray:
    probs = np.asarray(pred_probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] < (1 if multi_label else 2):
        raise InvalidOptionError(
            f"pred_probs must be an (n, K) array of probabilities, got shape {probs.shape}."
        )
    if not np.isfinite(probs).all() or probs.min(initial=0.0) < 0 or probs.max(initial=0.0) > 1:
        raise InvalidOptionError("pred_probs must hold probabilities in [0, 1] (no NaN).")
    if not multi_label and len(probs) and np.abs(probs.sum(axis=1) - 1).max() > 1e-6:
        raise InvalidOptionError("single-label pred_probs rows must sum to 1.")
    return probs


def _check_annotations(annotations: Any, shape: tuple[int, ...]) -> Annotations:
    if not isinstance(annotations, Annotations):
        raise InvalidAnnotationsError(
            f"annotations must be an ls_cleanlab.Annotations, got {type(annotations).__name__}."
        )
    if annotations.n_classes != shape[1]:
        raise InvalidAnnotationsError(
            f"annotations have {annotations.n_classes} classes but pred_probs {shape[1]}."
        )
    annotations.check_tasks(shape[0])
    return annotations
