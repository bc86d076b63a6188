"""cleanlab's ``get_label_quality_multiannotator_ensemble``: CROWDLAB with several models.

Private module; :func:`multiannotator_quality_ensemble` is public through
:mod:`ls_cleanlab.annotators`. As CROWDLAB with one model (:mod:`.crowdlab`), except that each of
the ``P`` models gets its own weight ``w_p = max(1 - err_p / e_0, 1e-6) sqrt(mean n_i)`` and the
posterior is the weighted average of the models' probabilities and the annotators' likelihoods:

    P(k | i) = (sum_p w_p p_pik + sum_j w_j [A if y_ij = k else (1 - A)/(K - 1)])
               / (sum_p w_p + sum_j w_j).

cleanlab computes it with one ``np.average`` per example and class; here the examples with the
same number of annotations are done together, each average's terms summed by one numpy
reduction over the same terms in the same order, so the values are bit-equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from ls_cleanlab.annotators import crowdlab as _crowdlab
from ls_cleanlab.annotators.multiannotator import MultiannotatorQuality, quality_frames
from ls_cleanlab.annotators.temperature import best_temperature, temperature_scale
from ls_cleanlab.annotators.votes import Votes
from ls_cleanlab.annotators.wide import (
    check_against,
    check_wide_labels,
    read_wide,
    warn_if_nobody_agrees,
    wide_votes,
)
from ls_cleanlab.confident.scores import label_quality_scores
from ls_cleanlab.errors import InvalidOptionError, InvalidPredProbsError
from ls_cleanlab.validation import as_pred_probs

__all__ = ["by_count", "ensemble_consensus", "multiannotator_quality_ensemble"]


def multiannotator_quality_ensemble(
    labels_multiannotator: Any,
    pred_probs: Any,
    *,
    calibrate_probs: bool = False,
    return_detailed_quality: bool = True,
    return_annotator_stats: bool = True,
    return_weights: bool = False,
    verbose: bool = True,
    label_quality_score_kwargs: dict[str, Any] | None = None,
) -> MultiannotatorQuality:
    """Single-label consensus and annotator quality from several annotators and several models.

    Equals ``cleanlab.multiannotator.get_label_quality_multiannotator_ensemble`` (2.9.0): the
    best-quality CROWDLAB consensus, same DataFrames, columns, index, order and values
    (bit-equal; majority-vote ties as in :func:`~ls_cleanlab.annotators.multiannotator_quality`).
    ``pred_probs`` is never modified (cleanlab overwrites it with ``calibrate_probs=True``);
    nothing is printed (``verbose`` is ignored). ``label_quality_score_kwargs`` scores the
    consensus and each annotation as in :func:`~ls_cleanlab.annotators.multiannotator_quality`;
    cleanlab raises ``TypeError`` for any non-empty one here.

    Parameters
    ----------
    labels_multiannotator : ndarray or pandas.DataFrame of shape (N, M)
        Class index given by annotator ``m`` to example ``n``, NaN where it gave none.
    pred_probs : ndarray of shape (P, N, K)
        Each of ``P`` models' probabilities (rows sum to 1).
    calibrate_probs, return_detailed_quality, return_annotator_stats, return_weights, verbose,
    label_quality_score_kwargs
        As in cleanlab.

    Returns
    -------
    MultiannotatorQuality
        ``label_quality``, ``detailed_label_quality``, ``annotator_stats`` as cleanlab's; with
        ``return_weights``, ``model_weight`` ``(P,)`` and ``annotator_weight`` ``(M,)``. Also a
        read-only mapping like cleanlab's dict.
    """
    import pandas as pd

    labels, ids, index = read_wide(labels_multiannotator)
    probs = check_ensemble(labels, pred_probs, ids)
    votes = wide_votes(labels, probs.shape[2])
    if calibrate_probs:
        probs = np.stack([temperature_scale(p, best_temperature(votes, p)) for p in probs])
    stats = ensemble_consensus(votes, probs, _scorer(label_quality_score_kwargs))
    out: dict[str, Any] = {
        "label_quality": pd.DataFrame(
            {
                "consensus_label": stats.label.astype(int),
                "consensus_quality_score": stats.quality,
                "annotator_agreement": stats.agreement,
                "num_annotations": votes.count,
            },
            index=index,
        )
    }
    # cleanlab scores annotators with the models' mean weight
    models = np.asarray(stats.model_weight)  # (P,)
    mean_weight = replace(stats, model_weight=float(np.mean(models)))
    asked = {"detailed": return_detailed_quality, "annotators": return_annotator_stats}
    out.update(quality_frames(votes, mean_weight, "crowdlab", (index, ids), **asked))
    if return_weights:
        out["model_weight"] = models
        out["annotator_weight"] = stats.annotator_weight
    return MultiannotatorQuality(**out)


def _scorer(kwargs: dict[str, Any] | None) -> Any:
    """``score(labels, probs)`` with cleanlab's ``label_quality_score_kwargs``, or None for
    its default self-confidence."""
    if not kwargs:
        return None
    options = dict(kwargs)

    def score(y: np.ndarray, p: np.ndarray) -> np.ndarray:
        return label_quality_scores(y, p, **options)

    return score


def check_ensemble(labels: np.ndarray, pred_probs: Any, ids: Any) -> np.ndarray:
    """cleanlab's checks of the wide labels and ``(P, N, K)`` probabilities; returns a float64
    copy of the probabilities."""
    check_wide_labels(labels, ids, several=True)
    probs = models_probs(pred_probs, "pred_probs")
    check_against(labels, probs)
    warn_if_nobody_agrees(labels)
    return probs


def models_probs(pred_probs: Any, name: str) -> np.ndarray:
    """``(P, N, K)`` float64 copy of several models' probabilities, each model checked."""
    if not isinstance(pred_probs, np.ndarray):
        raise InvalidOptionError(f"{name} must be a NumPy array, got {type(pred_probs).__name__}.")
    if pred_probs.ndim != 3 or 0 in pred_probs.shape:
        hint = " (one model: use the function without _ensemble)" if pred_probs.ndim == 2 else ""
        raise InvalidPredProbsError(
            f"{name} must be 3-D (models, examples, classes), got shape {pred_probs.shape}{hint}."
        )
    out = np.empty(pred_probs.shape)
    for p, model in enumerate(pred_probs):
        try:
            out[p] = as_pred_probs(model, sum_to_one=True)
        except InvalidPredProbsError as exc:
            raise InvalidPredProbsError(f"{name}[{p}] (model {p}): {exc}") from exc
    return out


def ensemble_consensus(
    votes: Votes, probs: np.ndarray, score: Any = None
) -> _crowdlab.ConsensusStats:
    """cleanlab's best-quality consensus with ``P`` models ``probs`` ``(P, N, K)``: CROWDLAB
    statistics of the majority vote (ties broken by the models' mean), then of the class of
    highest posterior; ``model_weight`` is the ``(P,)`` array."""
    first = _crowdlab.majority(votes, np.mean(probs, axis=0))
    majority = _stats(votes, probs, first, score)
    best = _crowdlab.best_quality(first, majority.posterior)
    return _stats(votes, probs, best, score)


def _stats(
    votes: Votes, probs: np.ndarray, label: np.ndarray, score: Any
) -> _crowdlab.ConsensusStats:
    y = votes.class_index()
    hits = np.bincount(votes.task, weights=(y == label[votes.task]), minlength=votes.n_units)
    agreement = hits / votes.count
    posterior, model_weight, weights = _posterior(votes, probs, label, agreement)
    if score is None:
        quality = posterior[np.arange(len(label)), label]
        label_quality = posterior[votes.task, y]
    else:
        quality = score(label, posterior)
        label_quality = np.empty(len(y))
        for rows in votes.by_annotator():
            label_quality[rows] = score(y[rows], posterior[votes.task[rows]])
    # model_weight holds the (P,) weights where one model's stats hold a float
    weight: Any = model_weight
    return _crowdlab.ConsensusStats(
        label, agreement, quality, posterior, label_quality, weight, weights
    )


def by_count(votes: Votes) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """For each number ``c`` of annotations per task: the ``(T,)`` tasks with ``c`` and the
    ``(T, c)`` rows of their annotations in annotator order (so a reduction over the last axis
    adds each task's terms in cleanlab's order)."""
    for count in np.unique(votes.count):
        tasks = np.flatnonzero(votes.count == count)
        yield tasks, votes.starts[tasks][:, None] + np.arange(count)


def _posterior(
    votes: Votes, probs: np.ndarray, label: np.ndarray, agreement: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """cleanlab's ``_get_post_pred_probs_and_weights_ensemble``: the ``(N, K)`` posterior, the
    ``(P,)`` model weights and the ``(M,)`` annotator weights."""
    k = probs.shape[2]
    multi = votes.count != 1
    likely = np.mean(agreement[multi])
    unlikely = (1 - likely) / (k - 1)
    sub = label[multi]
    base_error = np.clip(
        np.mean(sub != np.argmax(np.bincount(sub, minlength=k))), _crowdlab.CLIP, None
    )
    agree = _crowdlab.agreement_with_annotators(votes, _crowdlab.vote_counts(votes))
    weights = np.clip(1 - ((1 - agree) / base_error), _crowdlab.CLIP, None)
    model_error = np.mean(np.argmax(probs[:, multi], axis=2) != sub, axis=1)
    model_weight = np.maximum(1 - (model_error / base_error), _crowdlab.CLIP) * np.sqrt(
        np.mean(votes.count)
    )
    # each annotation's likelihood of each class, times its annotator's weight
    own = votes.labels
    weighted = np.where(own, likely, unlikely) * weights[votes.annotator][:, None]
    posterior = np.empty((votes.n_units, k))
    for tasks, rows in by_count(votes):
        terms = np.concatenate(
            (
                (probs[:, tasks] * model_weight[:, None, None]).transpose(1, 2, 0),
                weighted[rows].transpose(0, 2, 1),
            ),
            axis=2,
        )  # (T, K, P + c), the terms of cleanlab's np.average in its order
        total = np.concatenate(
            (np.tile(model_weight, (len(tasks), 1)), weights[votes.annotator[rows]]), axis=1
        )
        # numpy sums a contiguous last axis pairwise, as np.average sums each example's terms;
        # concatenate keeps its inputs' layouts, so the copies are needed
        posterior[tasks] = (
            np.ascontiguousarray(terms).sum(axis=2)
            / np.ascontiguousarray(total).sum(axis=1)[:, None]
        )
    return posterior, model_weight, weights
