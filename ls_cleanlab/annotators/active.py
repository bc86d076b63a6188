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

The rates are fitted by EM (Dawid & Skene 1979, one coin per class, the model as the prior): the
E-step is the posterior above, the M-step

    s_k = (sum_j pi_{t_j k} y_jk + m s_0) / (sum_j pi_{t_j k} + m),
    f_k = (sum_j (1 - pi_{t_j k}) y_jk + m f_0) / (sum_j (1 - pi_{t_j k}) + m),

with ``m = 2`` pseudo-annotations at the prior rates ``s_0 = 0.9``, ``f_0 = 0.05`` (all there is
before the first annotation). The same annotator model predicts the next vote, so posterior and
value agree with each other.

**The value.** Were each label drawn from the posterior, the cell would be wrong with
probability ``e = 2 pi (1 - pi)`` (between the error ``min(pi, 1 - pi)`` of deciding at 1/2 and
twice it, and smooth: a vote that cannot flip the decision on its own still counts, which the
myopic decision error misses). After one more vote the posterior moves by Bayes' rule, and

    E[e'] = 2 pi (1 - pi) [ s f / P(1) + (1 - s)(1 - f) / P(0) ]   <=  e,
    P(1) = pi s + (1 - pi) f,   P(0) = 1 - P(1).

Votes on different classes are independent given the truth, so the probability that the task's
whole label set is right rises from ``prod_k (1 - e_k)`` to ``prod_k (1 - E[e'_k])``; the
difference is the task's *value*, in [0, 1]. A task the model and its annotators agree on is
worth little; an unlabelled task the model is unsure of, or a labelled one whose annotators or
model disagree, is worth much.

Single-label tasks use the same reasoning over the ``K`` classes with a symmetric annotator of
accuracy ``a`` (each wrong class chosen with probability ``w = (1 - a) / (K - 1)``): the
posterior is ``pi_c ∝ p_c prod_j P(y_j | c)``, the error of a label drawn from it
``e = 1 - sum_c pi_c^2``, and after a vote ``v`` (probability ``P(v) = a pi_v + w (1 - pi_v)``)

    E[e'] = 1 - sum_v (a^2 pi_v^2 + w^2 (S - pi_v^2)) / P(v),   S = sum_c pi_c^2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.errors import InvalidAnnotationsError, InvalidOptionError
from ls_cleanlab.validation import check_int, check_real

__all__ = [
    "AnnotationValue",
    "annotation_value",
    "cell_error_after_vote",
    "multi_label_posterior",
    "multi_label_value",
    "single_label_posterior",
    "single_label_value",
]

#: Prior sensitivity and false-positive rate of a typical annotator, and their weight in
#: pseudo-annotations.
PRIOR_SENSITIVITY = 0.9
PRIOR_FALSE_POSITIVE_RATE = 0.05
PRIOR_WEIGHT = 2.0
#: EM iterations for the rates (they settle in a handful), and the change that stops them.
MAX_ITER = 50
TOL = 1e-6
_EPS = 1e-6  # probabilities are kept in [_EPS, 1 - _EPS] before taking logits


@dataclass(frozen=True)
class AnnotationValue:
    """What one more annotation is worth, per task. Arrays over ``n`` tasks and ``K`` classes.

    Attributes
    ----------
    value : ndarray, shape (n,)
        Expected rise, in [0, 1], of the probability that the task's consensus labels are right
        after one more annotation by a typical annotator. Rank tasks by it, highest first.
    p_right : ndarray, shape (n,)
        Probability that labels drawn from the posterior are right now: ``prod_k (1 - e_k)``
        (single-label: ``sum_c pi_c^2``).
    posterior : ndarray, shape (n, K)
        ``P(class present | model, annotations)``; single-label rows sum to 1.
    sensitivity, false_positive_rate : ndarray, shape (K,)
        The typical annotator: ``P(marks k | k present)`` and ``P(marks k | k absent)``
        (single-label: the accuracy, and ``(1 - accuracy) / (K - 1)``).
    multi_label : bool
    """

    value: np.ndarray
    p_right: np.ndarray
    posterior: np.ndarray
    sensitivity: np.ndarray
    false_positive_rate: np.ndarray
    multi_label: bool


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
    probs = _check_probs(pred_probs, multi_label)
    weight = check_real(prior_weight, "prior_weight", low=0.0, open_low=True)
    iterations = check_int(max_iter, "max_iter", low=1)
    ann = None
    if annotations is not None:
        ann = _check_annotations(annotations, probs.shape)
        if len(ann) == 0:
            ann = None
    if multi_label:
        pi, sens, fpr = _fit_multi(probs, ann, weight, iterations)
        value, right = multi_label_value(pi, sens, fpr)
    else:
        pi, accuracy = _fit_single(probs, ann, weight, iterations)
        value, right = single_label_value(pi, accuracy)
        k = probs.shape[1]
        sens, fpr = np.full(k, accuracy), np.full(k, (1 - accuracy) / (k - 1))
    return AnnotationValue(value, right, pi, sens, fpr, multi_label)


# -- multi-label ----------------------------------------------------------------------------------


def multi_label_posterior(
    probs: np.ndarray, annotations: Annotations | None, sens: np.ndarray, fpr: np.ndarray
) -> np.ndarray:
    """``P(present | model, votes)`` (n, K): the model's log-odds plus each vote's (see the
    module docs); inputs assumed valid."""
    p = np.clip(probs, _EPS, 1 - _EPS)
    logit = np.log(p) - np.log1p(-p)
    if annotations is not None:
        s, f = np.clip(sens, _EPS, 1 - _EPS), np.clip(fpr, _EPS, 1 - _EPS)
        marked = annotations.labels.astype(np.float64)
        evidence = marked * np.log(s / f) + (1 - marked) * np.log((1 - s) / (1 - f))
        np.add.at(logit, annotations.task, evidence)
    return 1.0 / (1.0 + np.exp(-logit))


def _multi_rates(
    pi: np.ndarray, ann: Annotations, prior_weight: float
) -> tuple[np.ndarray, np.ndarray]:
    at = pi[ann.task]  # (A, K): the posterior of each annotation's task
    marked = ann.labels.astype(np.float64)
    sens = ((at * marked).sum(axis=0) + prior_weight * PRIOR_SENSITIVITY) / (
        at.sum(axis=0) + prior_weight
    )
    fpr = (((1 - at) * marked).sum(axis=0) + prior_weight * PRIOR_FALSE_POSITIVE_RATE) / (
        (1 - at).sum(axis=0) + prior_weight
    )
    return sens, fpr


def _fit_multi(
    probs: np.ndarray, ann: Annotations | None, weight: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = probs.shape[1]
    sens, fpr = np.full(k, PRIOR_SENSITIVITY), np.full(k, PRIOR_FALSE_POSITIVE_RATE)
    pi = multi_label_posterior(probs, ann, sens, fpr)
    if ann is None:
        return pi, sens, fpr
    for _ in range(max_iter):
        new_sens, new_fpr = _multi_rates(pi, ann, weight)
        pi = multi_label_posterior(probs, ann, new_sens, new_fpr)
        change = max(np.abs(new_sens - sens).max(), np.abs(new_fpr - fpr).max())
        sens, fpr = new_sens, new_fpr
        if change < TOL:
            break
    return pi, sens, fpr


def cell_error_after_vote(
    posterior: np.ndarray, sensitivity: np.ndarray, false_positive_rate: np.ndarray
) -> np.ndarray:
    """``E[e']`` with ``e = 2 pi (1 - pi)``, after one binary vote, elementwise (see the module
    docs).

    Parameters
    ----------
    posterior : ndarray, shape (n, K)
    sensitivity, false_positive_rate : ndarray, shape (K,)
    """
    pi = posterior
    s = np.clip(sensitivity, _EPS, 1 - _EPS)[None, :]
    f = np.clip(false_positive_rate, _EPS, 1 - _EPS)[None, :]
    yes = pi * s + (1 - pi) * f
    return 2 * pi * (1 - pi) * (s * f / yes + (1 - s) * (1 - f) / (1 - yes))


def multi_label_value(
    pi: np.ndarray, sens: np.ndarray, fpr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(value, p_right)`` of tasks with posterior ``pi`` (n, K) for an annotator of rates
    ``sens``, ``fpr`` (K,); inputs assumed valid."""
    now = 2 * pi * (1 - pi)
    after = np.minimum(cell_error_after_vote(pi, sens, fpr), now)  # never above, up to rounding
    right = np.exp(np.log1p(-now).sum(axis=1))
    right_after = np.exp(np.log1p(-after).sum(axis=1))
    return np.clip(right_after - right, 0.0, 1.0), right


# -- single-label ---------------------------------------------------------------------------------


def single_label_posterior(
    probs: np.ndarray, annotations: Annotations | None, accuracy: float
) -> np.ndarray:
    """``P(class | model, votes)`` (n, K), rows summing to 1, for a symmetric annotator of the
    given accuracy; inputs assumed valid."""
    k = probs.shape[1]
    log = np.log(np.clip(probs, _EPS, 1.0))
    if annotations is not None:
        a = float(np.clip(accuracy, _EPS, 1 - _EPS))
        wrong = (1 - a) / (k - 1)
        chosen = np.argmax(annotations.labels, axis=1)
        votes = np.zeros_like(log)
        np.add.at(votes, (annotations.task, chosen), 1.0)
        log += votes * np.log(a) + (votes.sum(axis=1, keepdims=True) - votes) * np.log(wrong)
    log -= log.max(axis=1, keepdims=True)
    out = np.exp(log)
    return out / out.sum(axis=1, keepdims=True)


def _fit_single(
    probs: np.ndarray, ann: Annotations | None, weight: float, max_iter: int
) -> tuple[np.ndarray, float]:
    accuracy = PRIOR_SENSITIVITY
    pi = single_label_posterior(probs, ann, accuracy)
    if ann is None:
        return pi, accuracy
    chosen = np.argmax(ann.labels, axis=1)
    for _ in range(max_iter):
        agree = pi[ann.task, chosen].sum()
        new = float((agree + weight * PRIOR_SENSITIVITY) / (len(ann) + weight))
        pi = single_label_posterior(probs, ann, new)
        change, accuracy = abs(new - accuracy), new
        if change < TOL:
            break
    return pi, accuracy


def single_label_value(pi: np.ndarray, accuracy: float) -> tuple[np.ndarray, np.ndarray]:
    """``(value, p_right)`` of single-label tasks with posterior ``pi`` (n, K) for a symmetric
    annotator of the given accuracy; inputs assumed valid."""
    k = pi.shape[1]
    a = float(np.clip(accuracy, _EPS, 1 - _EPS))
    wrong = (1 - a) / (k - 1)
    squares = (pi**2).sum(axis=1, keepdims=True)
    vote = a * pi + wrong * (1 - pi)  # P(v), (n, K)
    right_after = ((a**2 * pi**2 + wrong**2 * (squares - pi**2)) / vote).sum(axis=1)
    right = squares[:, 0]
    return np.clip(right_after - right, 0.0, 1.0), right


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
