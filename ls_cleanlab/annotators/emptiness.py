"""An empty label set is a statement of its own: "nothing here".

Private helper of :mod:`ls_cleanlab.annotators`; assumes valid input (``U`` annotated tasks,
``M`` annotators, ``K`` classes, ``A`` annotations, see :class:`.votes.Votes`).

The multi-label model of :mod:`.calibrated` reads an annotator's set class by class: an empty
set is ``K`` "absent" votes, each as weak as the annotator's misses make it. That is wrong for
the annotators who miss most. A satisficer keeps one label of several, so its sensitivity is low
and each "absent" vote says little; yet it leaves a set empty only when nothing is there. On
data where some tasks hold no class (MULAN's Birds: half the recordings have no bird), a
careless annotator's spurious label then outweighs the satisficer's empty set, and the
posterior that judges both confirms the careless one (robustness benchmark, Birds in pairs of a
satisficer and a careless annotator: annotator ranking Spearman 0.30 with the truth where
agreement with the vote reaches 0.93).

So whether the set is empty is read as one more vote, on the event ``e_i`` "task ``i`` holds no
class", with its own rates per annotator, measured rather than implied:

* ``alpha_j = P(set empty | e = 1)`` and ``beta_j = P(set empty | e = 0)``, estimated by EM
  on ``E_i = P(e_i = 1 | everything)`` and shrunk toward what the per-class model implies,
  ``A_j = prod_k (1 - fp_jk)`` and the mean over ``j``'s tasks of ``B_ij``, the probability of
  an empty set under the per-class rates and the posterior given a non-empty truth (a Beta prior
  worth :data:`PRIOR_TASKS` tasks: with little data the per-class model stands);
* the per-class model already counted the set's emptiness with ``A_j`` and ``B_ij``, so only
  the ratio of measured to implied enters (the tilt of the annotator's likelihood that gives the
  event of an empty set the measured rates and leaves the rest of the model as it is):

``logit E_i = logit P0_i + sum_j [log(alpha_j / A_j) - log(beta_j / B_ij)]`` over the empty sets
and ``[log((1 - alpha_j) / (1 - A_j)) - log((1 - beta_j) / (1 - B_ij))]`` over the others, where
``P0_i = prod_k (1 - T_ik)`` is the per-class posterior's probability of an empty truth.

The posterior over label sets is the per-class one re-weighted on the two events "empty" and
"not empty" so that the first has probability ``E``: each class keeps its share of the non-empty
mass, ``T'_ik = T_ik (1 - E_i) / (1 - P0_i)``. Where no annotator left a set empty there is no
such vote, and nothing changes (:func:`empty_set_posterior` returns None).

Annotator quality (:func:`.quality.binary_quality`) uses this posterior; the consensus stays
the per-class one. Used for the consensus too, it fixed the careless labels on empty tasks (Birds
in pairs: tasks left wrong after reviewing 10% 79 -> 68 at seed 0, 101 -> 70 at seed 1) but
over-corrected elsewhere: on generated pairs like those of ``tests/annotators/test_emptiness.py``
it raised the careless annotators' false-positive rate beyond the truth (0.041 against 0.026)
and dropped true labels only they had found (cell accuracy 0.9767 -> 0.9748 and lower on three
of five seeds; refitting the model's calibration with it, lower still).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ls_cleanlab.annotators.rates import binary_rates
from ls_cleanlab.annotators.votes import Votes

__all__ = ["PRIOR_TASKS", "EmptySetPosterior", "Evidence", "empty_set_posterior", "refit"]

#: ``(votes, se, fp) -> (U, K)`` the annotators' summed log-likelihood ratios
#: (:func:`.calibrated.binary_evidence`).
Evidence = Callable[[Votes, np.ndarray, np.ndarray], np.ndarray]

#: Strength of the Beta priors of ``alpha_j`` and ``beta_j`` toward the per-class model's own
#: rates, in tasks: one task's worth, so that an annotator's measured habit takes over as soon
#: as it has labelled a few tasks of each kind.
PRIOR_TASKS = 1.0
#: EM rounds on ``E`` at most, and the largest change of ``E`` that stops them.
MAX_ROUNDS = 100
TOL = 1e-6
#: Rounds of :func:`refit` at most, and the mean change of the cells that stops them (the
#: tolerance of :func:`.calibrated.binary_em`).
REFIT_ROUNDS = 50
REFIT_TOL = 1e-4
#: Rows of the ``(A, K)`` work done at once (memory stays ``O(ROWS * K)``).
ROWS = 1 << 15
_TINY = 1e-300
_CLIP = 1e-9


@dataclass(frozen=True)
class EmptySetPosterior:
    """The posterior with emptiness read as a vote: ``cells`` ``(U, K)`` P(class present) and
    ``empty`` ``(U,)`` P(the task holds no class)."""

    cells: np.ndarray
    empty: np.ndarray


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out = np.tanh(0.5 * z)
    out += 1.0
    out *= 0.5
    return out


def _implied_empty(
    votes: Votes, t: np.ndarray, scale: np.ndarray, se: np.ndarray, fp: np.ndarray
) -> np.ndarray:
    """``(A,)`` ``B_ij``: probability of an empty set under the per-class rates when each class
    is present with probability ``t * scale`` (``(U, K)`` times ``(U,)``: the posterior given
    a non-empty truth); one annotator and at most :data:`ROWS` rows at a time."""
    out = np.empty(len(votes.task))
    for j, mine in enumerate(votes.by_annotator()):
        for start in range(0, len(mine), ROWS):
            rows = mine[start : start + ROWS]
            task = votes.task[rows]
            marked = t[task]
            marked *= scale[task, None]
            np.clip(marked, 0.0, 1.0, out=marked)
            marked *= se[j] - fp[j]
            marked += fp[j]  # P(j marks the class): in (0, 1), the rates being clipped
            out[rows] = np.exp(np.log1p(-marked).sum(axis=1))
    return out


def _rate(hits: np.ndarray, weight: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Beta posterior mean with ``PRIOR_TASKS`` tasks at ``prior``, clipped into (0, 1)."""
    rate = (hits + PRIOR_TASKS * prior) / (weight + PRIOR_TASKS)
    return np.clip(rate, _CLIP, 1.0 - _CLIP)


def _log_lik(empty: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Log-likelihood of each set's emptiness (``empty``) when sets are empty at ``rate``."""
    rate = np.clip(rate, _CLIP, 1.0 - _CLIP)
    return np.where(empty, np.log(rate), np.log1p(-rate))


def _empty_sets(votes: Votes) -> np.ndarray:
    """``(A,)`` bool: the annotations that mark no class."""
    return np.asarray(~votes.labels.any(axis=1), dtype=bool)


def empty_set_posterior(
    votes: Votes,
    logit: np.ndarray,
    se: np.ndarray,
    fp: np.ndarray,
    temperature: float | np.ndarray = 1.0,
) -> EmptySetPosterior | None:
    """The per-class posterior log-odds ``logit`` ``(U, K)`` of a model with rates ``se`` and
    ``fp`` ``(M, K)`` whose evidence is weighted by ``temperature``, one or per task ``(U,)``
    (:mod:`.tempering`), with
    each set's emptiness read as a vote of the same weight (module docstring); None when no
    annotator left a set empty."""
    empty = _empty_sets(votes)
    if not empty.any():
        return None
    return _read(votes, empty, logit, se, fp, temperature)


def refit(
    votes: Votes,
    logit: np.ndarray,
    se: np.ndarray,
    fp: np.ndarray,
    temperature: float | np.ndarray,
    evidence: Evidence,
) -> EmptySetPosterior | None:
    """EM of the per-class model with emptiness read as a vote, from a per-class fit (its
    posterior log-odds ``logit`` ``(U, K)``, rates ``se``, ``fp`` ``(M, K)`` and
    ``temperature``, one or per task ``(U,)``; ``evidence`` computes its annotators'
    log-likelihood ratios): alternate
    :func:`empty_set_posterior` and :func:`.rates.binary_rates` on its cells, the prior (the
    fit's log-odds without the annotators' evidence) kept, so that the rates stop counting a
    careless annotator's spurious label on an empty task as a find. None when no annotator
    left a set empty."""
    empty = _empty_sets(votes)
    if not empty.any():
        return None
    read = _read(votes, empty, logit, se, fp, temperature)
    if float(np.abs(read.cells - _sigmoid(logit)).mean()) < REFIT_TOL:
        return read  # the empty sets say what the per-class model did: the rates stand
    column = np.reshape(temperature, (-1, 1))
    prior = evidence(votes, se, fp)
    prior *= -column
    prior += logit  # the fit's log-odds without the annotators' evidence
    for _ in range(REFIT_ROUNDS):
        se, fp = binary_rates(votes, read.cells)
        logit = evidence(votes, se, fp)
        logit *= column
        logit += prior
        new = _read(votes, empty, logit, se, fp, temperature)
        del logit
        moved = read.cells  # no longer needed: holds the change
        moved -= new.cells
        change = float(np.abs(moved).mean())
        read = new
        if change < REFIT_TOL:
            break
    return read


def _read(
    votes: Votes,
    empty: np.ndarray,
    logit: np.ndarray,
    se: np.ndarray,
    fp: np.ndarray,
    temperature: float | np.ndarray,
) -> EmptySetPosterior:
    """:func:`empty_set_posterior` where ``empty`` ``(A,)`` marks the empty sets."""
    log_p0: np.ndarray = np.empty(len(logit))
    for start in range(0, len(logit), ROWS):
        rows = slice(start, start + ROWS)
        log_p0[rows] = -np.logaddexp(0.0, logit[rows]).sum(axis=1)
    log_p0 = np.minimum(log_p0, -_TINY)
    not_p0 = -np.expm1(log_p0)  # P(some class present), accurately near 0
    t = _sigmoid(logit)
    implied_alpha = np.exp(np.log1p(-fp).sum(axis=1))  # A_j
    implied_beta = _implied_empty(votes, t, 1.0 / not_p0, se, fp)
    p_empty = _emptiness_em(
        votes, empty, log_p0 - np.log(not_p0), implied_alpha, implied_beta, temperature
    )
    t *= ((1.0 - p_empty) / not_p0)[:, None]  # the cells, in place
    return EmptySetPosterior(np.clip(t, 0.0, 1.0, out=t), p_empty)


def _emptiness_em(
    votes: Votes,
    empty: np.ndarray,
    base: np.ndarray,
    implied_alpha: np.ndarray,
    implied_beta: np.ndarray,
    temperature: float | np.ndarray,
) -> np.ndarray:
    """``(U,)`` ``E`` by EM from the per-class model's log-odds ``base`` of an empty truth, with
    the rates ``A_j`` ``(M,)`` and ``B_ij`` ``(A,)`` it implies (module docstring)."""
    m, j, task = votes.n_annotators, votes.annotator, votes.task
    # the implied part of each set's log-likelihood ratio stays fixed; only alpha, beta move
    implied = _log_lik(empty, implied_beta) - _log_lik(empty, implied_alpha[j])
    start = base + temperature * np.bincount(task, weights=implied, minlength=len(base))
    key = 2 * j + empty
    p_empty = _sigmoid(base)
    for _ in range(MAX_ROUNDS):
        e = p_empty[task]
        weight_e = np.bincount(j, weights=e, minlength=m)
        weight_s = np.bincount(j, weights=1.0 - e, minlength=m)
        prior_beta = np.bincount(j, weights=(1.0 - e) * implied_beta, minlength=m)
        alpha = _rate(np.bincount(j, weights=e * empty, minlength=m), weight_e, implied_alpha)
        beta = _rate(
            np.bincount(j, weights=(1.0 - e) * empty, minlength=m),
            weight_s,
            np.divide(prior_beta, weight_s, out=np.zeros(m), where=weight_s > 0),
        )
        # (M, 2): log-likelihood ratio of a non-empty [0] and an empty [1] set
        ratio = np.stack([np.log1p(-alpha) - np.log1p(-beta), np.log(alpha) - np.log(beta)], 1)
        measured = np.bincount(task, weights=ratio.ravel()[key], minlength=len(base))
        new = _sigmoid(start + temperature * measured)
        change = float(np.abs(new - p_empty).max())
        p_empty = new
        if change < TOL:
            break
    return p_empty
