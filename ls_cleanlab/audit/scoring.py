"""From the consensus (or one annotator's labels) and the model to cell scores and priorities.

Private to :mod:`ls_cleanlab.audit`; assumes valid input. Two regimes:

* *several annotators* (some task has two or more annotations): the consensus posterior ``T``
  is the estimate, ``present = T``; the annotator model (per-annotator sensitivity and
  false-positive rate, :mod:`ls_cleanlab.annotators.calibrated`) is what tells a missed label
  from a spurious one, so no missing-label heuristic is added. Cell scores are ``|given - T|``
  and the task priority is the probability that the task's consensus is wrong
  (:mod:`ls_cleanlab.audit.expected`).
* *one annotator*: the labels are what is audited. Their cell scores come from the
  annotator model fitted with that single annotator and the model's probability ``p`` (plus
  the missing-label evidence of :mod:`ls_cleanlab.audit.satisficing` where the data show labels
  are missing) as the prior, as it stands
  (:func:`ls_cleanlab.annotators.fixed_prior.fixed_prior_em`): the annotator's sensitivity and
  false-positive rate per class by EM, started halfway between labels and model (started at
  the labels, EM would take them as error-free and stay there). On the benchmark's
  one-annotator cells the scores' calibration error is 0.001-0.03, where ``|given - p|`` had
  0.04-0.21. The priority stays confident learning's: the exponential
  moving average cleanlab uses for multi-label label quality (worst cells weigh most;
  single-label ``1 - p[given]``) of ``|given - p|``, so without missing-label evidence the
  order of tasks is exactly cleanlab's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators import Consensus
from ls_cleanlab.annotators.blocks import row_blocks
from ls_cleanlab.annotators.fixed_prior import fixed_prior_em
from ls_cleanlab.annotators.votes import Votes
from ls_cleanlab.audit.satisficing import cell_evidence, logit, sigmoid
from ls_cleanlab.confident.scores import exponential_moving_average

__all__ = ["PRIORITY_ALPHA", "Scores", "priority_of", "score_several", "score_single"]

#: Weight of the worst cell in a single annotator's task priority (cleanlab's EMA ``alpha``).
PRIORITY_ALPHA = 0.8
#: EM rounds and tolerance of the one-annotator model.
MAX_ITER = 100
TOL = 1e-4


@dataclass(frozen=True)
class Scores:
    """Arrays over ``n`` tasks and ``K`` classes (0 on unlabelled tasks unless said)."""

    present: np.ndarray  # (n, K) estimated P(class present); the model's on unlabelled tasks
    cell_scores: np.ndarray  # (n, K) P(audited cell wrong)
    ranking: np.ndarray  # (n, K) the scores the priority aggregates
    lift: np.ndarray | None = None  # (n, K) co-occurrence lift (one annotator, multi-label)
    lift_source: np.ndarray | None = None  # (n, K)
    conditional: np.ndarray | None = None  # (K, K)
    deficit: np.ndarray | None = None  # (n,)


def score_several(cons: Consensus, probs: np.ndarray | None) -> Scores:
    """Scores from the consensus of several annotators (module docstring)."""
    n, k = cons.labels.shape
    labelled = cons.annotated
    if probs is None:
        present = np.zeros((n, k))
        present[labelled] = cons.posterior[labelled]
    else:  # the consensus's posterior is the model's probabilities on the other tasks
        present = cons.posterior
    given = cons.labels.astype(bool)
    scores = np.empty((n, k))
    for rows in row_blocks(n, k):
        scores[rows] = np.where(given[rows], 1.0 - present[rows], present[rows])
    scores[~labelled] = 0.0
    return Scores(present=present, cell_scores=scores, ranking=scores)


def _one_annotator_posterior(
    given: np.ndarray, probs: np.ndarray, multi_label: bool, max_iter: int, tol: float
) -> np.ndarray:
    """``(R, K)`` posterior of the truth of ``R`` tasks labelled once, by the calibrated
    consensus model with a single annotator (module docstring)."""
    ann = Annotations.from_labels(given.astype(np.int8))
    votes = Votes.from_annotations(ann)
    start = (given + probs) / 2.0  # from the labels alone, EM would stay where it starts
    return fixed_prior_em(votes, start, probs, max_iter, tol, multi_label)


def score_single(
    given: np.ndarray, labelled: np.ndarray, probs: np.ndarray, multi_label: bool, seed: int
) -> Scores:
    """Scores of one annotator's labels (module docstring)."""
    n, k = given.shape
    present = probs.copy()
    rows = np.flatnonzero(labelled)
    lift = source = conditional = deficit = None
    if multi_label and len(rows):
        ev = cell_evidence(given[rows], probs[rows], seed=seed)
        base = probs[rows]
        # cells without extra evidence keep the probability itself, bit for bit, so that
        # without missing-label evidence the ranking is exactly confident learning's
        present[rows] = np.where(ev.extra == 0, base, sigmoid(logit(base) + ev.extra))
        lift, source = np.zeros((n, k)), np.full((n, k), -1)
        lift[rows], source[rows] = ev.lift, ev.lift_source
        conditional = ev.cooc.conditional
        if ev.deficit is not None:
            deficit = np.zeros(n)
            deficit[rows] = ev.deficit
    raw = np.where(given, 1.0 - present, present)
    raw[~labelled] = 0.0
    calibrated = present.copy()
    if len(rows):
        calibrated[rows] = _one_annotator_posterior(
            given[rows], present[rows], multi_label, MAX_ITER, TOL
        )
    scores = np.where(given, 1.0 - calibrated, calibrated)
    scores[~labelled] = 0.0
    return Scores(
        present=calibrated,
        cell_scores=scores,
        ranking=raw,
        lift=lift,
        lift_source=source,
        conditional=conditional,
        deficit=deficit,
    )


def priority_of(
    ranking: np.ndarray,
    given: np.ndarray,
    labelled: np.ndarray,
    several: bool,
    multi_label: bool,
    wrong: np.ndarray,
) -> np.ndarray:
    """``(n,)`` review priority: the probability the task is wrong (several annotators), or
    confident learning's label quality of the ``ranking`` cell scores (one annotator)."""
    out = np.zeros(len(given))
    if several:
        out[labelled] = wrong[labelled]
    elif multi_label:
        out[labelled] = 1.0 - exponential_moving_average(
            1.0 - ranking[labelled], alpha=PRIORITY_ALPHA
        )
    else:
        out[labelled] = (ranking * given).sum(axis=1)[labelled]
    return out
