"""Single-label EM's degenerate fixed point, a class left with no task, and the refits that
avoid it.

Private helper of :mod:`.calibrated`; assumes valid input. With few answers per worker, EM for
Dawid-Skene can settle where a class holds no task: each worker's confusion row for the class
that took its tasks is then just the worker's answer frequencies, which explains the answers as
well as any labelling does, and the class prior (the posterior mean) gives the emptied class a
little less every round. On the single-label crowd sets cut to two answers per task (no model),
Duck (two classes, workers right 50-60% of the time) ended with every task in one class, and Dog
lost one of its four classes (task accuracy 0.59 against the plurality vote's 0.68-0.72).

A class *collapsed* when the starting vote shares give it at least :data:`FLOOR` of the tasks
and the fit less than :data:`SHARE` of what the vote gave it (:func:`collapsed`). The model is
then refitted from the vote with fewer parameters (:func:`guarded`):

1. one accuracy per worker, errors spread evenly over the other classes (the one-coin model,
   :func:`one_coin`): Dog at two answers per task 0.72, the vote 0.70;
2. where a class collapses even so, the answers cannot tell the workers apart: one accuracy for
   all (:func:`common_coin`) and the class prior fixed at the vote's shares, a vote whose ties the
   vote's own class shares break (Duck at two answers per task 0.59-0.69, the vote 0.60-0.68).

The floor was first the share itself (10% of the tasks). Emotion cut to two answers per task
(three classes, the negative one 5-6% of the vote) lost that class at seed 1, and its 36 tasks
where both answers said negative went to neutral, all wrong (task accuracy 0.573 against the
vote's 0.670); generated crowds of 50 and 100 tasks (five classes of prior shares drawn from a
Dirichlet, some under 10%) lost one too. With a floor of 2% Emotion reaches 0.617 there and those
crowds 0.880 and 0.901 (vote 0.863 and 0.895); the benchmark's cells, the crowd sets otherwise
and 12-50 classes without a model are unchanged.

Where no class collapses nothing changes: every cell of the robustness benchmark at seeds 0
and 1, the five crowd sets whole and cut to three answers per task. The one-coin model for every
crowd (chosen by the marginal likelihood of the expected counts, or by worker) was measured too:
it lifts sparse generated crowds but costs Face (workers answer "neutral" for half the sad and
angry faces, a habit one accuracy per worker cannot hold: 0.58 against 0.61 at two answers per
task) and, by worker, Dog and Product whole.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

import numpy as np

from ls_cleanlab.annotators.votes import Votes

__all__ = ["FLOOR", "SHARE", "Rates", "collapsed", "common_coin", "guarded", "one_coin"]

#: A class the vote gives at least ``FLOOR`` of the tasks has collapsed in a fit that gives it
#: less than ``SHARE`` of the vote's share.
FLOOR = 0.02
SHARE = 0.1
EPS = 1e-6


class Rates(Protocol):
    """``(votes, posterior (U, K), weight=(A,) or None) -> (M, K, K)`` confusion matrices, each
    vote counted ``weight`` times when given (:mod:`.dependence`)."""

    def __call__(
        self, votes: Votes, posterior: np.ndarray, *, weight: np.ndarray | None = None
    ) -> np.ndarray: ...


Fit = TypeVar("Fit")


def _coin_matrices(accuracy: np.ndarray, k: int) -> np.ndarray:
    """``(M, K, K)`` confusion matrices with ``accuracy`` ``(M,)`` on the diagonal and the rest
    spread evenly over the other classes."""
    out = np.repeat(((1.0 - accuracy) / max(k - 1, 1))[:, None, None], k, axis=1)
    out = np.repeat(out, k, axis=2)
    out[:, np.arange(k), np.arange(k)] = accuracy[:, None]
    return out


def _right(
    votes: Votes, posterior: np.ndarray, weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``(A,)`` posterior probability that each annotation is right, and what each counts
    for (``weight``, else 1), the first times the second."""
    right = posterior[votes.task, votes.class_index()]
    each = np.ones(len(right)) if weight is None else weight
    return right * each, each


def one_coin(
    votes: Votes, posterior: np.ndarray, *, weight: np.ndarray | None = None
) -> np.ndarray:
    """``(M, K, K)`` one-coin confusion matrices under the posterior ``T`` ``(U, K)``: each
    annotator's expected share of right answers (each counted ``weight`` ``(A,)`` times when
    given), one pseudo-answer right and one wrong."""
    m = votes.n_annotators
    right, each = _right(votes, posterior, weight)
    hits = np.bincount(votes.annotator, weights=right, minlength=m)
    seen = np.bincount(votes.annotator, weights=each, minlength=m)
    return _coin_matrices((hits + 1.0) / (seen + 2.0), posterior.shape[1])


def common_coin(
    votes: Votes, posterior: np.ndarray, *, weight: np.ndarray | None = None
) -> np.ndarray:
    """``(M, K, K)`` one confusion matrix for every annotator: the expected share of right
    answers over all annotations (weighted as in :func:`one_coin`), one pseudo-answer right
    and one wrong."""
    right, each = _right(votes, posterior, weight)
    accuracy = (float(right.sum()) + 1.0) / (float(each.sum()) + 2.0)
    return _coin_matrices(np.full(votes.n_annotators, accuracy), posterior.shape[1])


def collapsed(share: np.ndarray, posterior: np.ndarray) -> bool:
    """Whether a class with at least :data:`FLOOR` of the vote ``share`` ``(K,)`` has less than
    :data:`SHARE` of that in the fit's posterior ``(U, K)`` (module docstring)."""
    fitted = posterior.mean(axis=0) if len(posterior) else share
    return bool(np.any((share >= FLOOR) & (fitted < SHARE * share)))


def guarded(
    run: Callable[[Rates | None, np.ndarray | None], Fit],
    share: np.ndarray,
    posterior: Callable[[Fit], np.ndarray],
) -> tuple[Fit, np.ndarray | None]:
    """The fit ``run(None, None)`` (the caller's own confusion matrices and class prior) unless
    a class collapses in it; then ``run(one_coin, None)``, and if one collapses there too
    ``run(common_coin, log share)`` (module docstring). Returns the fit and the fixed log class
    prior it used (None when it estimated one)."""
    fit = run(None, None)
    if not collapsed(share, posterior(fit)):
        return fit, None
    fit = run(one_coin, None)
    if not collapsed(share, posterior(fit)):
        return fit, None
    fixed = np.log(np.clip(share, EPS, None))
    return run(common_coin, fixed), fixed
