"""Consensus of several annotators, annotator quality and inter-annotator agreement.

Multi-label first: each class is a binary problem (present / absent) and a task's consensus is a
label set; single-label projects use the same API, and there the consensus and annotator quality
of ``method="crowdlab"`` equal cleanlab 2.9.0's ``get_label_quality_multiannotator``
(``consensus_method="best_quality"``, ``quality_method="crowdlab"``).

Methods (``method=``):

* ``"crowdlab"`` (default; Goh, Tkachenko & Mueller 2022, "CROWDLAB: Supervised learning to infer
  consensus labels and quality scores for data with multiple annotators", arXiv:2210.06812): a
  weighted average of the model's probabilities and the annotators' votes, annotators weighted by
  their agreement with each other beyond chance and the model by its agreement with the majority.
  Multi-label: per class, annotator weights pooled over classes and one model weight per class
  (see :mod:`ls_cleanlab.annotators.multilabel`). Needs ``pred_probs``; without them it is the
  majority vote, its model-free starting point (the result's ``method`` says so): on CrowdTruth
  (15 sparse multi-select workers per item) Dawid-Skene per class accepted classes only a
  minority chose (1.77 labels per item against 0.97) and its worker quality agreed less with
  CrowdTruth's (Spearman 0.66 against 0.83). When no task has two or more annotations,
  annotator reliability cannot be estimated: it falls back to ``"majority"`` with a warning.
* ``"majority"``: per-class majority vote; ties broken by the model (``p >= 0.5``; single-label:
  cleanlab's tie-breaks: the model, then the rarer class, then the annotators who agree more with
  the untied majority; left-over ties go to the lowest class, where cleanlab picks at random).
  Without a model, multi-label ties go to the side whose voters agree more with the untied
  majority, then to "present".
* ``"dawid_skene"``: EM with per-class sensitivity and specificity per annotator (multi-label) or a
  confusion matrix per annotator (single-label); the model, when given, is one more annotator
  with soft votes whose reliability EM estimates too (Dawid & Skene 1979; see
  :mod:`ls_cleanlab.annotators.dawid_skene`).

Consensus quality of a task: single-label, the posterior probability of the consensus class
(``majority``: the share of annotators choosing it, cleanlab's ``quality_method="agreement"``);
multi-label, the exponential moving average (alpha 0.8, worst classes weighing most) of the
per-class posterior confidence in the consensus value, as :func:`ls_cleanlab.label_quality_scores`
aggregates per-class scores.

Annotator quality, in [0, 1]: ``crowdlab``: cleanlab's mix ``w * s_j + (1 - w) * a_j`` of the
mean quality ``s_j`` of the annotator's labels under the posterior and its agreement ``a_j`` with
the consensus on shared tasks (multi-label: mean Jaccard index), ``w`` the model's share of the
total weight; ``s_j`` alone for an annotator who shares no task. ``majority``: ``a_j``.
``dawid_skene``: single-label, the expected share of its labels that are correct; multi-label, its
balanced accuracy ``(se_j + sp_j) / 2`` pooled over classes. Annotators who share no task with
another get the mean of the others under ``majority`` (NaN if no two annotators share a task).

Gold (``gold=``, :func:`~ls_cleanlab.annotators.gold.find_gold`: a reviewer's or a ground-truth
annotation, kept out of ``annotations``) is known truth for every method: an annotated gold
task's consensus and posterior are its gold label, Dawid-Skene and the calibrated EM clamp it in
every round and take the annotators' first rates from the gold tasks alone, and CROWDLAB
measures each annotator's agreement against gold where it labelled gold tasks. Without gold the
results are those of the methods above, bit for bit.

:func:`agreement` measures agreement without any consensus: mean pairwise Jaccard indices and
Krippendorff's alpha (:mod:`.agreement`). :func:`annotator_table` summarizes each
annotator against a consensus. :func:`multiannotator_quality` takes and returns cleanlab's formats.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from ls_cleanlab.annotations import Annotations, check_annotations
from ls_cleanlab.annotators.gold import Gold, known_units
from ls_cleanlab.annotators.runners import RUNNERS, Raw
from ls_cleanlab.annotators.votes import Votes
from ls_cleanlab.errors import (
    InvalidAnnotationsError,
    InvalidOptionError,
    InvalidPredProbsError,
    warn_user,
)
from ls_cleanlab.validation import as_pred_probs, check_option

__all__ = ["METHODS", "Consensus", "Method", "consensus"]

Method = Literal["crowdlab", "majority", "dawid_skene", "calibrated"]
METHODS: tuple[Method, ...] = get_args(Method)


@dataclass(frozen=True)
class Consensus:
    """Consensus labels of ``n`` tasks over ``K`` classes and the quality of ``M`` annotators.

    Attributes
    ----------
    labels : ndarray of int8, shape (n, K)
        Consensus label sets (single-label: one-hot); rows of unannotated tasks are 0.
    posterior : ndarray of float, shape (n, K)
        ``P(class present | annotations[, model])``; single-label, the consensus distribution
        (rows sum to 1). CROWDLAB and Dawid-Skene: their posterior; majority: the share of a
        task's annotators choosing each class (0.5 on tied cells, whichever way the tie was
        broken). Unannotated tasks: ``pred_probs`` if given, else NaN.
    annotated : ndarray of bool, shape (n,)
    n_annotations : ndarray of int, shape (n,)
    quality : ndarray of float, shape (n,)
        Consensus quality in [0, 1], higher is better; NaN for unannotated tasks.
    annotator_ids : ndarray, shape (M,)
    annotator_quality : ndarray of float, shape (M,)
        In [0, 1], higher is better.
    model_weight : float or None
        CROWDLAB's model weight (multi-label: the mean of ``class_model_weight``); None without
        ``pred_probs`` or for the other methods.
    method : str
        The method actually used (after fall-backs).
    multi_label : bool
    class_model_weight : ndarray of float, shape (K,), or None
        Multi-label CROWDLAB's per-class model weights.
    annotator_weight : ndarray of float, shape (M,), or None
        CROWDLAB's annotator weights.
    n_iter : int or None
        Dawid-Skene EM iterations used.
    sensitivity, false_positive_rate : ndarray of float, shape (M, K), or None
        ``"calibrated"`` multi-label: each annotator's ``P(marked | present)`` and
        ``P(marked | absent)`` per class.
    confusion : ndarray of float, shape (M, K, K), or None
        ``"calibrated"`` single-label: each annotator's ``P(given l | true c)`` ``[j, c, l]``.
    temperature : float or None
        ``"calibrated"``: the weight in (0, 1] of the annotators' summed evidence (1 when
        their votes behave as independent given the truth).
    """

    labels: np.ndarray
    posterior: np.ndarray
    annotated: np.ndarray
    n_annotations: np.ndarray
    quality: np.ndarray
    annotator_ids: np.ndarray
    annotator_quality: np.ndarray
    model_weight: float | None
    method: str
    multi_label: bool
    class_model_weight: np.ndarray | None = None
    annotator_weight: np.ndarray | None = None
    n_iter: int | None = None
    sensitivity: np.ndarray | None = None
    false_positive_rate: np.ndarray | None = None
    confusion: np.ndarray | None = None
    temperature: float | None = None


def consensus(
    annotations: Annotations,
    n_tasks: int,
    pred_probs: np.ndarray | None = None,
    *,
    method: Method = "crowdlab",
    multi_label: bool | None = None,
    max_iter: int = 100,
    tol: float = 1e-4,
    gold: Gold | None = None,
) -> Consensus:
    """Consensus labels, their quality and annotator quality from several annotators.

    Parameters
    ----------
    annotations : Annotations
        ``A`` annotations of tasks in ``[0, n_tasks)`` over ``K`` classes.
    n_tasks : int
        n, the number of tasks; tasks without annotations get empty consensus rows.
    pred_probs : array_like of shape (n, K), optional
        Out-of-sample model probabilities (single-label: rows sum to 1).
    method : {"crowdlab", "majority", "dawid_skene"}
        See the module docstring for the math and the fall-backs.
    multi_label : bool, optional
        None infers: single-label iff every annotation holds exactly one class and the rows of
        ``pred_probs`` (if given) sum to 1.
    max_iter, tol : int, float
        Dawid-Skene stops after ``max_iter`` EM rounds or when the posteriors move less than
        ``tol`` on average in one round.
    gold : Gold, optional
        Known truth of some tasks (:func:`~ls_cleanlab.annotators.gold.find_gold`), its
        annotations not among ``annotations``; see the module docstring.

    Returns
    -------
    Consensus

    Raises
    ------
    InvalidAnnotationsError
        Task indices out of range, or ``multi_label=False`` with annotations of other than one
        class.
    InvalidPredProbsError
        ``pred_probs`` not ``(n_tasks, K)``, not finite, outside [0, 1], or (single-label) rows
        not summing to 1.
    InvalidOptionError
        An unknown ``method`` or a bad ``n_tasks``, ``max_iter`` or ``tol``.
    """
    method = check_option(method, METHODS, "method")
    n = check_annotations(annotations, n_tasks)
    probs = _check_probs(pred_probs, n, annotations.n_classes)
    multi = _multi_label(annotations, probs, multi_label)
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise InvalidOptionError(f"max_iter must be an integer >= 1, got {max_iter!r}.")
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol > 0:
        raise InvalidOptionError(f"tol must be a number > 0, got {tol!r}.")
    _check_gold(gold, n, annotations.n_classes, multi)
    votes = Votes.from_annotations(annotations)
    if method == "crowdlab" and probs is None:
        method = "majority"
    if method == "crowdlab" and not (votes.count > 1).any():
        warn_user(
            "no task has two or more annotations, so annotator reliability cannot be estimated; "
            "consensus(method='crowdlab') falls back to method='majority'."
        )
        method = "majority"
    sub = None if probs is None else probs[votes.tasks]
    if votes.n_units == 0:
        raw = _empty(annotations)
    else:
        known = known_units(gold, votes)
        raw = RUNNERS[(method, multi)](votes, sub, int(max_iter), float(tol), known)
    return _scatter(raw, votes, annotations, n, probs, method, multi)


def _empty(annotations: Annotations) -> Raw:
    k, m = annotations.n_classes, annotations.n_annotators
    return Raw(
        label=np.zeros((0, k), dtype=bool),
        posterior=np.zeros((0, k)),
        quality=np.zeros(0),
        annotator_quality=np.full(m, np.nan),
    )


def _scatter(
    raw: Raw,
    votes: Votes,
    annotations: Annotations,
    n: int,
    probs: np.ndarray | None,
    method: str,
    multi: bool,
) -> Consensus:
    k = annotations.n_classes
    labels = np.zeros((n, k), dtype=np.int8)
    labels[votes.tasks] = raw.label
    posterior = np.full((n, k), np.nan) if probs is None else probs.copy()
    posterior[votes.tasks] = raw.posterior
    annotated = np.zeros(n, dtype=bool)
    annotated[votes.tasks] = True
    count = np.zeros(n, dtype=np.int64)
    count[votes.tasks] = votes.count
    quality = np.full(n, np.nan)
    quality[votes.tasks] = raw.quality
    return Consensus(
        labels=labels,
        posterior=posterior,
        annotated=annotated,
        n_annotations=count,
        quality=quality,
        annotator_ids=annotations.annotator_ids,
        annotator_quality=raw.annotator_quality,
        model_weight=raw.model_weight,
        method=method,
        multi_label=multi,
        class_model_weight=raw.class_model_weight,
        annotator_weight=raw.annotator_weight,
        n_iter=raw.n_iter,
        sensitivity=raw.rates[0] if raw.rates is not None and multi else None,
        false_positive_rate=raw.rates[1] if raw.rates is not None and multi else None,
        confusion=raw.rates[0] if raw.rates is not None and not multi else None,
        temperature=raw.temperature,
    )


# -- validation -------------------------------------------------------------------------------


def _check_probs(pred_probs: Any, n: int, k: int) -> np.ndarray | None:
    if pred_probs is None:
        return None
    probs = as_pred_probs(pred_probs, sum_to_one=False)
    if probs.shape != (n, k):
        raise InvalidPredProbsError(
            f"pred_probs has shape {probs.shape} but there are {n} tasks and the annotations "
            f"have {k} classes; pass one row per task and one column per class, ({n}, {k})."
        )
    return probs


def _check_gold(gold: Any, n: int, k: int, multi: bool) -> None:
    if gold is None:
        return
    if not isinstance(gold, Gold):
        raise InvalidOptionError(
            f"gold must be the Gold returned by find_gold(), got {type(gold).__name__}."
        )
    if gold.tasks.shape != (n,) or gold.labels.shape != (n, k):
        raise InvalidAnnotationsError(
            f"gold covers {gold.labels.shape[0]} tasks and {gold.labels.shape[1]} classes but "
            f"there are {n} tasks and {k} classes; call find_gold with the same tasks."
        )
    if not multi:
        sizes = gold.labels[gold.tasks].sum(axis=1)
        if (sizes != 1).any():
            task = int(np.flatnonzero(gold.tasks)[np.flatnonzero(sizes != 1)[0]])
            raise InvalidAnnotationsError(
                f"single-label gold needs exactly one class per gold task; task {task} has "
                f"{int(sizes[sizes != 1][0])}."
            )


def _multi_label(annotations: Annotations, probs: np.ndarray | None, multi_label: Any) -> bool:
    sums_to_one = probs is None or bool(np.all(np.abs(probs.sum(axis=1) - 1) <= 1e-3))
    if multi_label is None:
        return not (annotations.is_single_label and sums_to_one)
    if not isinstance(multi_label, (bool, np.bool_)):
        raise InvalidOptionError(f"multi_label must be True, False or None, got {multi_label!r}.")
    if multi_label:
        return True
    if len(annotations) and not annotations.is_single_label:
        sizes = annotations.labels.sum(axis=1)
        bad = np.flatnonzero(sizes != 1)
        raise InvalidAnnotationsError(
            f"multi_label=False needs exactly one class per annotation, but rows "
            f"{', '.join(map(str, bad[:5]))} hold {int(sizes[bad[0]])} classes or more/fewer; "
            "pass multi_label=True for label sets."
        )
    if annotations.n_classes < 2:
        raise InvalidAnnotationsError("single-label consensus needs at least 2 classes.")
    if not sums_to_one:
        raise InvalidPredProbsError(
            "single-label pred_probs rows must sum to 1; pass multi_label=True for independent "
            "per-class probabilities."
        )
    return False
