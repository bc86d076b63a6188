"""Single-label evidence with each task's own answers taken out of the rates that judge them.

Private helper of :mod:`ls_cleanlab.annotators`; assumes valid input (``A`` annotations, ``U``
tasks, ``M`` annotators, ``K`` classes, see :class:`.votes.Votes`).

The calibrated consensus (:mod:`.calibrated`) reads annotator ``j``'s answer ``l`` on task
``i`` as the evidence ``log C_j[c, l]`` for each class ``c``, with ``C_j`` estimated from the
expected counts of all of ``j``'s answers, this one among them. With many classes and a few
answers per class, that answer is a sizeable part of the cell ``C_j[c, l]`` that judges it:
an error seen once confirms itself, and the posterior is over-confident (50 classes, 300 tasks
of 3 answers from 9 workers, no model: 2-4 tasks expected wrong where 26-33 are). Here each
answer is judged by its annotator's confusion row re-estimated without task ``i`` (leave one
task out; the cross-validated likelihood of Dawid & Skene's model): the expected counts
``N_j[c, l]`` of :func:`.rates.confusion_counts` less the task's own share ``T_ic`` in row
``c``, every prior they are shrunk toward kept (they pool all annotators and classes, where one
task weighs little):

``accuracy_jc = 1 - (e_jc - T_ic [c != l] + E) / (n_jc - T_ic + E / q_jc)``,
``C_j[c, l] = (N_jcl - T_ic + s S_cl) / (n_jc - N_jcc - T_ic + s) (1 - accuracy_jc)`` (``c !=
l``).

Nothing is thresholded: where a row holds many answers, taking one out changes it little and
the evidence is today's; where it holds few, it changes much. The temperature of this posterior
is chosen as the fit's is (:func:`.tempering.score_dependence`), by how well it predicts each
held-out vote, that vote's task now out of the rates too.

The consensus keeps the full posterior (held out there, it lost 1-6 tasks of accuracy on 12
classes x 1,000 tasks), and so does the review order: the held-out posterior alone left up to
5 more tasks wrong after the top 10% (200 classes x 2,000 tasks, a weak model). The scores
(:func:`ordered_scores`) therefore take the full posterior's order of doubt at the held-out
posterior's level: each task's doubt is mapped through the isotonic regression of its held-out
doubt on its full one, which keeps the order and (up to the interpolation between its blocks)
the sum, the expected count of wrong tasks.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import isotonic_regression
from scipy.special import logsumexp

from ls_cleanlab.annotators import tempering
from ls_cleanlab.annotators.rates import CONFUSION_EVENTS, EPS, ConfusionCounts, confusion_counts
from ls_cleanlab.annotators.votes import Votes

__all__ = ["held_out_entries", "held_out_evidence", "ordered_scores", "score_log_posterior"]


def score_log_posterior(votes: Votes, posterior: np.ndarray, log_prior: np.ndarray) -> np.ndarray:
    """``(U, K)`` the posterior the scores come from: ``softmax(tau_n (log_prior + held-out
    evidence))``, the rates counted under ``posterior`` ``(U, K)``, ``log_prior`` ``(K,)`` or
    ``(U, K)`` the fit's, and ``tau_n`` the per-task weights of :mod:`.tempering`, their
    ``rho`` chosen as the fit's is, by the held-out votes, with their tasks out of the rates too
    (:func:`.tempering.score_dependence`)."""
    parts = confusion_counts(votes, posterior)
    held = held_out_evidence(votes, posterior, parts)
    base = np.log(np.clip(posterior.mean(axis=0), EPS, None))
    shift = log_prior - base
    rho = tempering.score_dependence(
        votes, base, shift, held, lambda rows: held_out_entries(votes, posterior, parts, rows)
    )
    z = tempering.task_weights(votes.count, rho)[:, None] * (log_prior + held)
    return np.asarray(z - logsumexp(z, axis=1, keepdims=True))


def held_out_evidence(votes: Votes, posterior: np.ndarray, parts: ConfusionCounts) -> np.ndarray:
    """``(U, K)`` summed log-likelihood of each task's answers under its annotators' confusion
    rows without the task (module docstring), ``parts`` from the posterior ``T`` ``(U, K)``;
    a block of tasks at a time."""
    out = np.empty_like(posterior)
    for tasks, rows in votes.task_blocks(posterior.shape[1]):
        entries = held_out_entries(votes, posterior, parts, rows)
        out[tasks] = votes.block_task_sums(entries, tasks, rows)
    return out


def held_out_entries(
    votes: Votes, posterior: np.ndarray, parts: ConfusionCounts, rows: slice | np.ndarray
) -> np.ndarray:
    """``(R, K)`` ``log C_j[c, l]`` of the annotations ``rows``, each under its annotator's
    rows without its task (module docstring)."""
    k = posterior.shape[1]
    counts = parts.counts
    total = counts.sum(axis=2)
    correct = np.einsum("jcc->jc", counts)
    errors = np.maximum(total - correct, 0.0)
    slack = CONFUSION_EVENTS / np.clip(parts.accuracy_prior, EPS, 1 - EPS)
    own_total = total - correct  # the annotator's answers on class c that were not c
    j, given = votes.annotator[rows], votes.class_index()[rows]
    share = posterior[votes.task[rows]]  # (R, K) the task's share of each row
    right = np.eye(k, dtype=bool)[given]  # c == l
    wrong = np.where(right, 0.0, share)
    error = np.maximum(errors[j] - wrong, 0.0) + CONFUSION_EVENTS
    rate = error / (np.maximum(total[j] - share, 0.0) + slack[j])
    pseudo = parts.strength * parts.spread[:, given].T
    cell = np.maximum(counts[j, :, given] - wrong, 0.0) + pseudo
    spread = cell / (np.maximum(own_total[j] - wrong, 0.0) + parts.strength)
    return np.log(np.clip(np.where(right, 1.0 - rate, spread * rate), EPS, 1.0))


def ordered_scores(full: np.ndarray, held: np.ndarray) -> np.ndarray:
    """``(U, K)`` log posterior of the scores: the full log posterior ``full``'s order of
    doubt, at the held-out log posterior ``held``'s level (module docstring). The doubt ``d``
    (one minus the top class's probability) of each task under ``full`` is mapped to the
    isotonic regression of its doubt under ``held`` on ``d``, interpolated between the block
    centres (and 0 -> 0, 1 -> 1) so that a higher ``d`` stays higher; the other classes share
    the new doubt as they shared the old."""
    p = np.exp(full)
    rows = np.arange(len(p))
    top = p.argmax(axis=1)
    doubt = 1.0 - p[rows, top]
    if len(p) == 0:
        return full
    order = np.argsort(doubt, kind="stable")
    fitted = isotonic_regression(1.0 - np.exp(held[order, top[order]]))
    starts = fitted.blocks[:-1]
    centre = np.add.reduceat(doubt[order], starts) / np.diff(fitted.blocks)
    x = np.concatenate(([0.0], centre, [1.0]))
    y = np.concatenate(([0.0], fitted.x[starts], [1.0]))
    rising = np.concatenate(([True], np.diff(x) > 0))
    new = np.interp(doubt, x[rising], y[rising])
    out = p * np.divide(new, doubt, out=np.ones_like(doubt), where=doubt > 0)[:, None]
    out[rows, top] = 1.0 - new
    return np.log(np.clip(out, np.finfo(np.float64).tiny, None))
