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

from dataclasses import dataclass

import numpy as np
from scipy.optimize import isotonic_regression
from scipy.special import logsumexp

from ls_cleanlab.annotators import tempering
from ls_cleanlab.annotators.rates import CONFUSION_EVENTS, EPS, ConfusionCounts, confusion_counts
from ls_cleanlab.annotators.votes import Votes

__all__ = ["CACHED_BLOCKS", "HeldOutRows", "ordered_scores", "score_log_posterior"]

#: The evidence is computed in blocks of annotations this many times smaller than the
#: :data:`.blocks.BLOCK_CELLS` cells (32 K cells, 256 KB for each temporary of
#: :meth:`HeldOutRows.entries`): they stay in a core's cache, and the evidence of 100,000 tasks x
#: 50 classes took 0.3 s of CPU time instead of 0.75 s (the same sums: a task's answers are
#: never split).
CACHED_BLOCKS = 64


def score_log_posterior(votes: Votes, posterior: np.ndarray, log_prior: np.ndarray) -> np.ndarray:
    """``(U, K)`` the posterior the scores come from: ``softmax(tau_n (log_prior + held-out
    evidence))``, the rates counted under ``posterior`` ``(U, K)``, ``log_prior`` ``(K,)`` or
    ``(U, K)`` the fit's, and ``tau_n`` the per-task weights of :mod:`.tempering`, their
    ``rho`` chosen as the fit's is, by the held-out votes, with their tasks out of the rates too
    (:func:`.tempering.score_dependence`)."""
    rows = HeldOutRows.of(votes, posterior, confusion_counts(votes, posterior))
    held = rows.evidence()
    base = np.log(np.clip(posterior.mean(axis=0), EPS, None))
    shift = log_prior - base
    rho = tempering.score_dependence(votes, base, shift, held, rows.entries)
    z = tempering.task_weights(votes.count, rho)[:, None] * (log_prior + held)
    return np.asarray(z - logsumexp(z, axis=1, keepdims=True))


@dataclass(frozen=True)
class HeldOutRows:
    """Each annotator's confusion rows under the posterior ``T`` ``(U, K)``, ready to take one
    task out of them (module docstring): what every block of annotations reads, computed once."""

    votes: Votes
    posterior: np.ndarray  # (U, K) T
    given: np.ndarray  # (A,) class of each annotation
    cells: np.ndarray  # (M K, K) counts N_j[c, l] at row j K + l, column c
    pseudo: np.ndarray  # (K, K) s S_cl at row l, column c
    strength: float  # s
    total: np.ndarray  # (M, K) n_jc
    errors: np.ndarray  # (M, K) e_jc = n_jc - N_jcc, at least 0
    slack: np.ndarray  # (M, K) E / q_jc

    @classmethod
    def of(cls, votes: Votes, posterior: np.ndarray, parts: ConfusionCounts) -> HeldOutRows:
        """The rows of :func:`.rates.confusion_counts`' ``parts``, counted under ``posterior``."""
        m, k = parts.counts.shape[:2]
        total = parts.counts.sum(axis=2)
        errors = np.maximum(total - np.einsum("jcc->jc", parts.counts), 0.0)
        slack = CONFUSION_EVENTS / np.clip(parts.accuracy_prior, EPS, 1 - EPS)
        cells = np.ascontiguousarray(parts.counts.transpose(0, 2, 1)).reshape(m * k, k)
        pseudo = np.ascontiguousarray((parts.strength * parts.spread).T)
        given = votes.class_index()
        return cls(votes, posterior, given, cells, pseudo, parts.strength, total, errors, slack)

    def evidence(self) -> np.ndarray:
        """``(U, K)`` summed log-likelihood of each task's answers under its annotators'
        confusion rows without the task; a small block of tasks at a time
        (:data:`CACHED_BLOCKS`)."""
        out = np.empty_like(self.posterior)
        for tasks, rows in self.votes.task_blocks(self.posterior.shape[1] * CACHED_BLOCKS):
            out[tasks] = self.votes.block_task_sums(self.entries(rows), tasks, rows)
        return out

    def entries(self, rows: slice | np.ndarray) -> np.ndarray:
        """``(R, K)`` ``log C_j[c, l]`` of the annotations ``rows``, each under its annotator's
        rows without its task (module docstring), computed in place."""
        k = self.posterior.shape[1]
        j, given = self.votes.annotator[rows], self.given[rows]
        at = (np.arange(len(given)), given)  # c == l
        share = self.posterior[self.votes.task[rows]]  # (R, K) the task's share of each row
        wrong = share.copy()
        wrong[at] = 0.0
        left = self.errors[j]  # the annotator's answers on class c that were not c
        left -= wrong
        np.maximum(left, 0.0, out=left)
        rate = left + CONFUSION_EVENTS
        seen = self.total[j]
        seen -= share
        np.maximum(seen, 0.0, out=seen)
        seen += self.slack[j]
        rate /= seen
        cell = self.cells[j * k + given]
        cell -= wrong
        np.maximum(cell, 0.0, out=cell)
        cell += self.pseudo[given]
        left += self.strength
        cell /= left
        cell *= rate
        cell[at] = 1.0 - rate[at]
        np.clip(cell, EPS, 1.0, out=cell)
        return np.log(cell, out=cell)


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
