"""One runner per (method, multi-label) pair, all returning results over the annotated tasks.

Private helper of :mod:`ls_cleanlab.annotators`, which validates the inputs, picks the runner
from :data:`RUNNERS` and scatters the result back to all tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ls_cleanlab.annotators import calibrated as _calibrated
from ls_cleanlab.annotators import crowdlab as _crowdlab
from ls_cleanlab.annotators import dawid_skene as _dawid_skene
from ls_cleanlab.annotators import multilabel as _multilabel
from ls_cleanlab.annotators import quality as _quality
from ls_cleanlab.annotators.votes import Votes, key_means

if TYPE_CHECKING:
    from ls_cleanlab.annotators.gold import Known

__all__ = ["RUNNERS", "Raw"]


@dataclass(frozen=True)
class Raw:
    """A consensus over the ``U`` annotated tasks."""

    label: np.ndarray  # (U, K) bool
    posterior: np.ndarray  # (U, K)
    quality: np.ndarray  # (U,)
    annotator_quality: np.ndarray  # (M,)
    model_weight: float | None = None
    class_model_weight: np.ndarray | None = None
    annotator_weight: np.ndarray | None = None
    n_iter: int | None = None
    rates: tuple[np.ndarray, ...] | None = None  # (se, fp) (M, K) or (confusion,) (M, K, K)
    temperature: float | None = None


Runner = Callable[[Votes, "np.ndarray | None", int, float, "Known | None"], Raw]


def _one_hot(label: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((len(label), k), dtype=bool)
    out[np.arange(len(label)), label] = True
    return out


def _fill_mean(values: np.ndarray) -> np.ndarray:
    """NaN entries replaced by the mean of the others (all NaN stays NaN)."""
    known = ~np.isnan(values)
    if known.any() and not known.all():
        values = np.where(known, values, values[known].mean())
    return values


def _per_annotator_mean(votes: Votes, values: np.ndarray) -> np.ndarray:
    return key_means(values, votes.annotator, votes.n_annotators)


def crowdlab_single(
    votes: Votes, probs: np.ndarray | None, max_iter: int, tol: float, known: Known | None
) -> Raw:
    assert probs is not None
    first = _crowdlab.majority(votes, probs)
    if known is not None:
        first = known.clamp_label(first)
    stats = _crowdlab.consensus_stats(votes, probs, first, "crowdlab", known=known)
    label = _crowdlab.best_quality(first, stats.posterior)
    stats = _crowdlab.consensus_stats(votes, probs, label, "crowdlab", known=known)
    quality = _crowdlab.annotator_quality(votes, stats, "crowdlab")
    own = _per_annotator_mean(votes, stats.label_quality)
    return Raw(
        label=_one_hot(label, votes.n_classes),
        posterior=stats.posterior,
        quality=stats.quality,
        annotator_quality=np.where(np.isnan(quality), own, quality),
        model_weight=stats.model_weight,
        annotator_weight=stats.annotator_weight,
    )


def majority_single(
    votes: Votes, probs: np.ndarray | None, max_iter: int, tol: float, known: Known | None
) -> Raw:
    label = _crowdlab.majority(votes, probs)
    if known is not None:
        label = known.clamp_label(label)
    stats = _crowdlab.consensus_stats(votes, None, label, "agreement")
    quality = _crowdlab.annotator_quality(votes, stats, "agreement")
    return Raw(
        label=_one_hot(label, votes.n_classes),
        posterior=stats.posterior if known is None else known.clamp(stats.posterior),
        quality=stats.quality,
        annotator_quality=_fill_mean(quality),
    )


def dawid_skene_single(
    votes: Votes, probs: np.ndarray | None, max_iter: int, tol: float, known: Known | None
) -> Raw:
    counts = _crowdlab.vote_counts(votes)
    start = counts / votes.count[:, None]
    post, _, n_iter = _dawid_skene.multiclass_em(votes, start, probs, max_iter, tol, known)
    top = post == post.max(axis=1, keepdims=True)
    label = np.where(
        top.sum(axis=1) == 1, np.argmax(post, axis=1), _crowdlab.majority(votes, probs)
    )
    correct = post[votes.task, votes.class_index()]
    return Raw(
        label=_one_hot(label, votes.n_classes),
        posterior=post,
        quality=post[np.arange(len(label)), label],
        annotator_quality=_per_annotator_mean(votes, correct),
        n_iter=n_iter,
    )


def crowdlab_multi(
    votes: Votes, probs: np.ndarray | None, max_iter: int, tol: float, known: Known | None
) -> Raw:
    assert probs is not None
    stats = _multilabel.crowdlab(votes, probs, known)
    assert stats.model_weight is not None
    return Raw(
        label=stats.label,
        posterior=stats.posterior,
        quality=stats.quality,
        annotator_quality=stats.annotator_quality,
        model_weight=float(np.mean(stats.model_weight)),
        class_model_weight=stats.model_weight,
        annotator_weight=stats.annotator_weight,
    )


def majority_multi(
    votes: Votes, probs: np.ndarray | None, max_iter: int, tol: float, known: Known | None
) -> Raw:
    label = _multilabel.majority(votes, probs)
    post = _multilabel.yes_votes(votes) / votes.count[:, None]
    if known is not None:
        label, post = known.clamp_label(label), known.clamp(post)
    return Raw(
        label=label,
        posterior=post,
        quality=_multilabel.set_quality(label, post),
        annotator_quality=_fill_mean(_multilabel.agreement_with(votes, label)),
    )


def dawid_skene_multi(
    votes: Votes, probs: np.ndarray | None, max_iter: int, tol: float, known: Known | None
) -> Raw:
    start = _multilabel.yes_votes(votes) / votes.count[:, None]
    post, _, _, n_iter = _dawid_skene.binary_em(votes, start, probs, max_iter, tol, known)
    label = np.where(post == 0.5, _multilabel.majority(votes, probs), post > 0.5)
    return Raw(
        label=label,
        posterior=post,
        quality=_multilabel.set_quality(label, post),
        annotator_quality=_dawid_skene.balanced_accuracy(votes, post),
        n_iter=n_iter,
    )


def calibrated_single(
    votes: Votes, probs: np.ndarray | None, max_iter: int, tol: float, known: Known | None
) -> Raw:
    start = _crowdlab.vote_counts(votes) / votes.count[:, None]
    fit = _calibrated.multiclass_em(votes, start, probs, max_iter, tol, known)
    post = fit.posterior
    top = post == post.max(axis=1, keepdims=True)
    label = np.where(
        top.sum(axis=1) == 1, np.argmax(post, axis=1), _crowdlab.majority(votes, probs)
    )
    post = fit.score_posterior  # the consensus is the full posterior's, the scores may not be
    weight = None
    if probs is not None:
        weight = fit.calibration.temperature * fit.model_share if fit.calibration else 0.0
    return Raw(
        label=_one_hot(label, votes.n_classes),
        posterior=post,
        quality=post[np.arange(len(label)), label],
        annotator_quality=_quality.multiclass_quality(votes, fit),
        model_weight=weight,
        n_iter=fit.n_iter,
        rates=(fit.confusion,),
        temperature=fit.temperature,
    )


def calibrated_multi(
    votes: Votes, probs: np.ndarray | None, max_iter: int, tol: float, known: Known | None
) -> Raw:
    start = _multilabel.yes_votes(votes) / votes.count[:, None]
    fit = _calibrated.binary_em(votes, start, probs, max_iter, tol, known)
    del start  # binary_em's posterior, updated in place: fit.posterior is its copy
    annotators = _quality.binary_quality(votes, fit)  # first: its refit holds (U, K) arrays
    post = fit.posterior
    label = np.where(post == 0.5, _multilabel.majority(votes, probs), post > 0.5)
    slope: np.ndarray | None = None
    if probs is not None:
        slope = np.zeros(votes.n_classes)
        if fit.calibration is not None:
            slope = fit.calibration.slope * fit.model_share
    return Raw(
        label=label,
        posterior=post,
        quality=_multilabel.set_quality(label, post),
        annotator_quality=annotators,
        model_weight=None if slope is None else float(np.mean(slope)),
        class_model_weight=slope,
        n_iter=fit.n_iter,
        rates=(fit.se, fit.fp),
        temperature=fit.temperature,
    )


RUNNERS: dict[tuple[str, bool], Runner] = {
    ("crowdlab", False): crowdlab_single,
    ("majority", False): majority_single,
    ("dawid_skene", False): dawid_skene_single,
    ("crowdlab", True): crowdlab_multi,
    ("majority", True): majority_multi,
    ("dawid_skene", True): dawid_skene_multi,
    ("calibrated", False): calibrated_single,
    ("calibrated", True): calibrated_multi,
}
