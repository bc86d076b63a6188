"""cleanlab's ActiveLab scores: which example to (re)label next, for one model or several.

Private module; :func:`active_learning_scores` and :func:`active_learning_scores_ensemble` are
public through :mod:`ls_cleanlab.annotators`. ActiveLab (Goh & Mueller 2023, "ActiveLab: Active
learning with re-labeling by multiple annotators", arXiv:2301.11856) shrinks the quality ``q_i``
of an example's consensus toward chance by how much evidence it rests on:

    score_i = (W_i q_i + a / K) / (W_i + a),

with ``W_i`` the weights of the example's annotators plus the model weight(s) and ``a`` the mean
annotator weight, all from CROWDLAB (:mod:`.crowdlab`, :mod:`.ensemble`) after temperature
scaling (:mod:`.temperature`). An unlabelled example has only the model: ``q_i`` is its highest
(scaled) probability, ``W_i`` the model weight. When every labelled example has one label,
cleanlab estimates no weights (all 1) and no temperature; so here.

This is cleanlab's measure, kept next to :mod:`.active`'s own (the expected gain of one more
annotation), which answers the same question differently.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ls_cleanlab.annotators import crowdlab as _crowdlab
from ls_cleanlab.annotators.ensemble import by_count, ensemble_consensus, models_probs
from ls_cleanlab.annotators.multiannotator import consensus_by_method
from ls_cleanlab.annotators.temperature import best_temperature, temperature_scale
from ls_cleanlab.annotators.votes import Votes
from ls_cleanlab.annotators.wide import (
    check_against,
    check_wide_labels,
    read_wide,
    warn_if_nobody_agrees,
    wide_votes,
)
from ls_cleanlab.errors import InvalidOptionError, InvalidPredProbsError
from ls_cleanlab.validation import as_pred_probs

__all__ = ["ActiveLearningScores", "active_learning_scores", "active_learning_scores_ensemble"]


class ActiveLearningScores(NamedTuple):
    """cleanlab's pair of score arrays, named; unpacks as cleanlab's tuple."""

    active_learning_scores: np.ndarray  # (N,) labelled examples; empty without them
    active_learning_scores_unlabeled: np.ndarray  # (N_u,) unlabelled ones; empty without them


class _Fit(NamedTuple):
    """What the labelled examples teach about the unlabelled ones."""

    k: int
    temperatures: np.ndarray  # (P,)
    model_weight: np.ndarray  # (P,)
    annotator_weight: float  # the mean annotator weight ``a``


def active_learning_scores(
    labels_multiannotator: Any = None, pred_probs: Any = None, pred_probs_unlabeled: Any = None
) -> ActiveLearningScores:
    """ActiveLab scores of labelled and unlabelled examples, in [0, 1]: label the lowest next.

    Equals ``cleanlab.multiannotator.get_active_learning_scores`` (2.9.0), bit for bit except
    where its majority vote is left to chance (we take the lowest class). Give
    ``labels_multiannotator`` with ``pred_probs`` for labelled examples, ``pred_probs_unlabeled``
    for unlabelled ones, or all three; one annotator is allowed.

    Parameters
    ----------
    labels_multiannotator : ndarray or pandas.DataFrame of shape (N, M), optional
        Class indices, NaN where an annotator gave none; every row needs a label.
    pred_probs : ndarray of shape (N, K), optional
        Out-of-sample model probabilities of the labelled examples.
    pred_probs_unlabeled : ndarray of shape (N_u, K), optional
        Model probabilities of unlabelled examples.

    Returns
    -------
    ActiveLearningScores
        ``(scores, scores_unlabeled)``, each empty when its examples were not given.
    """
    _need_some(pred_probs, pred_probs_unlabeled)
    unlabeled = None
    if pred_probs_unlabeled is not None:
        unlabeled = _one_model(pred_probs_unlabeled, "pred_probs_unlabeled")[None]
    if pred_probs is None:
        assert unlabeled is not None
        labelled, fit = np.array([]), _no_fit(unlabeled)
    else:
        labels, ids = _labels(labels_multiannotator, pred_probs)
        probs = _one_model(pred_probs, "pred_probs")
        check_against(labels, probs)
        _same_classes(probs.shape[1], unlabeled)
        labelled, fit = _labelled_one(labels, ids, probs)
    if unlabeled is None:
        return ActiveLearningScores(labelled, np.array([]))
    scaled = temperature_scale(unlabeled[0], float(fit.temperatures[0]))
    weight, a = float(fit.model_weight[0]), fit.annotator_weight
    shrunk = (np.max(scaled, axis=1) * weight + (1 / fit.k) * a) / (weight + a)
    return ActiveLearningScores(labelled, shrunk)


def active_learning_scores_ensemble(
    labels_multiannotator: Any = None, pred_probs: Any = None, pred_probs_unlabeled: Any = None
) -> ActiveLearningScores:
    """ActiveLab scores with ``P`` models: :func:`active_learning_scores` for an ensemble.

    Equals ``cleanlab.multiannotator.get_active_learning_scores_ensemble`` (2.9.0), bit for bit
    except where a majority vote is left to chance (we take the lowest class). An unlabelled
    example's consensus is the models' majority vote (ties broken by their mean probability);
    cleanlab refuses that vote with a single model, we allow it. Inputs are never modified
    (cleanlab temperature-scales ``pred_probs`` and ``pred_probs_unlabeled`` in place).

    Parameters
    ----------
    labels_multiannotator : ndarray or pandas.DataFrame of shape (N, M), optional
    pred_probs : ndarray of shape (P, N, K), optional
    pred_probs_unlabeled : ndarray of shape (P, N_u, K), optional
        The same ``P`` models as ``pred_probs``.

    Returns
    -------
    ActiveLearningScores
    """
    _need_some(pred_probs, pred_probs_unlabeled)
    unlabeled = None
    if pred_probs_unlabeled is not None:
        unlabeled = models_probs(pred_probs_unlabeled, "pred_probs_unlabeled")
    if pred_probs is None:
        assert unlabeled is not None
        labelled, fit = np.array([]), _no_fit(unlabeled)
    else:
        labels, ids = _labels(labels_multiannotator, pred_probs)
        probs = models_probs(pred_probs, "pred_probs")
        check_against(labels, probs)
        _same_classes(probs.shape[2], unlabeled)
        if unlabeled is not None and len(unlabeled) != len(probs):
            raise InvalidPredProbsError(
                f"pred_probs_unlabeled has {len(unlabeled)} models but pred_probs has "
                f"{len(probs)}; give both from the same models."
            )
        labelled, fit = _labelled_ensemble(labels, ids, probs)
    if unlabeled is None:
        return ActiveLearningScores(labelled, np.array([]))
    return ActiveLearningScores(labelled, _unlabeled_ensemble(unlabeled, fit))


def _unlabeled_ensemble(unlabeled: np.ndarray, fit: _Fit) -> np.ndarray:
    """The models' majority vote scored on their weighted mean with the uniform annotator."""
    scaled = np.stack(
        [temperature_scale(p, t) for p, t in zip(unlabeled, fit.temperatures, strict=True)]
    )
    mean = np.mean(scaled, axis=0)
    votes = wide_votes(np.argmax(scaled, axis=2).T.astype(np.float64), fit.k)
    consensus = _crowdlab.majority(votes, mean)
    uniform = np.full((1, *scaled.shape[1:]), 1 / fit.k)
    weights = np.concatenate((fit.model_weight, np.array([fit.annotator_weight])))
    shrunk = np.average(np.concatenate((scaled, uniform)), weights=weights, axis=0)
    return shrunk[np.arange(len(consensus)), consensus]


def _labelled_one(labels: np.ndarray, ids: Any, probs: np.ndarray) -> tuple[np.ndarray, _Fit]:
    k = probs.shape[1]
    votes = wide_votes(labels, k)
    if (votes.count == 1).all():  # cleanlab: no weights, no temperature
        label = _crowdlab.majority(votes, probs)
        quality = probs[np.arange(len(label)), label]
        fit = _Fit(k, np.ones(1), np.ones(1), 1.0)
        return _shrink(votes, quality, np.ones(labels.shape[1]), 1.0, fit), fit
    check_wide_labels(labels, ids, several=True)
    warn_if_nobody_agrees(labels)
    temperature = best_temperature(votes, probs)
    scaled = temperature_scale(probs, temperature)
    stats = consensus_by_method(votes, scaled, ["best_quality"], "crowdlab", None)["best_quality"]
    assert stats.model_weight is not None and stats.annotator_weight is not None
    weights = stats.annotator_weight
    fit = _Fit(k, np.array([temperature]), np.array([stats.model_weight]), float(np.mean(weights)))
    return _shrink(votes, stats.quality, weights, stats.model_weight, fit), fit


def _labelled_ensemble(labels: np.ndarray, ids: Any, probs: np.ndarray) -> tuple[np.ndarray, _Fit]:
    k = probs.shape[2]
    p = len(probs)
    votes = wide_votes(labels, k)
    if (votes.count == 1).all():  # cleanlab: no weights, no temperatures
        mean = np.mean(probs, axis=0)
        label = _crowdlab.majority(votes, mean)
        fit = _Fit(k, np.ones(p), np.ones(p), 1.0)
        quality = mean[np.arange(len(label)), label]
        return _shrink(votes, quality, np.ones(labels.shape[1]), float(p), fit), fit
    check_wide_labels(labels, ids, several=True)
    warn_if_nobody_agrees(labels)
    temperatures = np.array([best_temperature(votes, model) for model in probs])
    scaled = np.stack([temperature_scale(m, t) for m, t in zip(probs, temperatures, strict=True)])
    stats = ensemble_consensus(votes, scaled)
    models = np.asarray(stats.model_weight)
    assert stats.annotator_weight is not None
    weights = stats.annotator_weight
    fit = _Fit(k, temperatures, models, float(np.mean(weights)))
    return _shrink(votes, stats.quality, weights, np.sum(models), fit), fit


def _shrink(
    votes: Votes, quality: np.ndarray, weights: np.ndarray, model: float, fit: _Fit
) -> np.ndarray:
    """cleanlab's ``np.average((q_i, 1/K), weights=(sum_j w_j + model, a))`` per example, each
    sum over the example's annotators in numpy's order."""
    annotators = np.empty(votes.n_units)
    for tasks, rows in by_count(votes):
        annotators[tasks] = weights[votes.annotator[rows]].sum(axis=1)
    total = annotators + model
    a = fit.annotator_weight
    return (quality * total + (1 / fit.k) * a) / (total + a)


def _no_fit(unlabeled: np.ndarray) -> _Fit:
    """Without labelled examples: temperature 1, all weights 1."""
    p = len(unlabeled)
    return _Fit(unlabeled.shape[2], np.ones(p), np.ones(p), 1.0)


def _need_some(pred_probs: Any, pred_probs_unlabeled: Any) -> None:
    if pred_probs is None and pred_probs_unlabeled is None:
        raise InvalidOptionError(
            "pass pred_probs (with labels_multiannotator) for labelled examples, "
            "pred_probs_unlabeled for unlabelled ones, or both; both are None."
        )


def _labels(labels_multiannotator: Any, pred_probs: Any) -> tuple[np.ndarray, Any]:
    if labels_multiannotator is None:
        raise InvalidOptionError(
            "pred_probs was given without labels_multiannotator; pass the labels of those "
            "examples, or only pred_probs_unlabeled to score unlabelled examples."
        )
    labels, ids, _ = read_wide(labels_multiannotator)
    check_wide_labels(labels, ids, several=False)
    return labels, ids


def _one_model(pred_probs: Any, name: str) -> np.ndarray:
    if not isinstance(pred_probs, np.ndarray):
        raise InvalidOptionError(f"{name} must be a NumPy array, got {type(pred_probs).__name__}.")
    if pred_probs.ndim == 3:
        raise InvalidPredProbsError(
            f"{name} is 3-D {pred_probs.shape} (several models): use "
            "active_learning_scores_ensemble."
        )
    try:
        return as_pred_probs(pred_probs, sum_to_one=True)
    except InvalidPredProbsError as exc:
        raise InvalidPredProbsError(f"{name}: {exc}") from exc


def _same_classes(k: int, unlabeled: np.ndarray | None) -> None:
    if unlabeled is not None and unlabeled.shape[2] != k:
        raise InvalidPredProbsError(
            f"pred_probs_unlabeled has {unlabeled.shape[2]} classes but pred_probs has {k}."
        )
