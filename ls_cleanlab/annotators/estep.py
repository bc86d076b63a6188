"""The calibrated consensus's multi-label E-step, a block of tasks at a time.

Private helper of :mod:`.calibrated`; assumes valid input. A round of its EM needs the whole
posterior only for what it estimates from it (the annotators' rates, :mod:`.rates`; the model's
calibration, :mod:`.model_source`; the prevalences), each a few numbers per class. Everything
else is per task: the prior log-odds, the annotators' evidence, the new log-odds and posterior.
So the E-step runs over blocks of tasks (:func:`~.blocks.row_blocks`) and writes the log-odds and
the posterior in place: at a million tasks of 50 classes a round holds no ``(U, K)``
temporary (each is 400 MB), where the whole-array E-step held five. Every cell is computed by
the same operations as the whole-array form, so the result is the same to the bit; the mean
change that stops EM is added block by block in a fixed order (equal to ``np.mean`` when there
is one block), never depending on where the audit runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ls_cleanlab.annotators.model_source import BinaryCalibration
from ls_cleanlab.annotators.votes import Votes

if TYPE_CHECKING:
    from ls_cleanlab.annotators.gold import Known

__all__ = ["BinaryEvidence", "BinaryPrior", "TaskRows", "binary_e_step", "sigmoid"]


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@dataclass(frozen=True)
class BinaryPrior:
    """A round's prior log-odds: the prevalences ``base`` ``(K,)``, or, with a calibration the
    model passed, the calibrated model on the model's log-odds, its share beyond the prevalence
    weighted by ``omega``."""

    base: np.ndarray
    calibration: BinaryCalibration | None = None
    omega: float = 1.0

    def rows(self, x: np.ndarray | None) -> np.ndarray:
        """``(r, K)`` prior log-odds of tasks whose model log-odds are ``x`` (or ``(K,)``)."""
        if self.calibration is None or x is None:
            return self.base
        prior = self.calibration.logits(x)
        if self.omega < 1.0:
            prior = self.base + self.omega * (prior - self.base)
        return prior


class BinaryEvidence:
    """The annotators' summed log-likelihood ratios ``(U, K)`` under the rates ``se``, ``fp``
    ``(M, K)``, each vote weighted by ``weight`` ``(A,)`` when given (:mod:`.dependence`),
    computed for a block of tasks on demand."""

    def __init__(
        self, votes: Votes, se: np.ndarray, fp: np.ndarray, weight: np.ndarray | None = None
    ) -> None:
        present = np.log(se) - np.log(fp)
        self.absent = np.log1p(-se) - np.log1p(-fp)
        self.shift = present - self.absent
        self.votes = votes
        self.weight = weight
        # the dense incidence's product is BLAS's: whole, so that its bits never depend on blocks
        dense = votes.incidence is not None and weight is None
        self.spread = votes.spread_to_tasks(self.absent) if dense else None

    def rows(self, tasks: slice, rows: slice) -> np.ndarray:
        """The evidence of the block ``tasks``, whose annotations are the rows ``rows``."""
        votes, k = self.votes, self.absent.shape[1]
        n = tasks.stop - tasks.start
        if self.spread is not None:
            spread = self.spread[tasks]
        else:
            absent = self.absent[votes.annotator[rows]]
            if self.weight is not None:
                absent *= self.weight[rows, None]
            spread = votes.block_task_sums(absent, tasks, rows)
        marked_rows, marked_cols = votes.marked
        lo, hi = np.searchsorted(marked_rows, (rows.start, rows.stop))
        at, cols = marked_rows[lo:hi], marked_cols[lo:hi]
        weights = self.shift[votes.annotator[at], cols]
        if self.weight is not None:
            weights = weights * self.weight[at]
        key = (votes.task[at] - tasks.start) * k + cols
        marked = np.bincount(key, weights=weights, minlength=n * k)
        return spread + marked.reshape(n, k)

    def full(self) -> np.ndarray:
        """``(U, K)``, every block."""
        votes = self.votes
        out = np.empty((votes.n_units, self.absent.shape[1]))
        for tasks, rows in votes.task_blocks(self.absent.shape[1]):
            out[tasks] = self.rows(tasks, rows)
        return out


def binary_e_step(
    prior: BinaryPrior,
    evidence: BinaryEvidence,
    x: np.ndarray | None,
    tau: float | np.ndarray,
    known: Known | None,
    posterior: np.ndarray,
    logit: np.ndarray,
) -> float:
    """One E-step, in place: ``logit = prior + tau * evidence`` (gold rows clamped) and
    ``posterior = sigmoid(logit)``, both ``(U, K)``, ``tau`` one weight or one per task
    ``(U,)`` (:mod:`.tempering`); returns the posterior's mean absolute change."""
    votes = evidence.votes
    total = 0.0
    for tasks, rows in votes.task_blocks(posterior.shape[1]):
        weight = tau[tasks, None] if isinstance(tau, np.ndarray) else tau
        z = prior.rows(None if x is None else x[tasks]) + weight * evidence.rows(tasks, rows)
        if known is not None:
            z = known.clamp_logit_rows(z, tasks)
        new = sigmoid(z)
        total += float(np.abs(new - posterior[tasks]).sum())
        posterior[tasks] = new
        logit[tasks] = z
    return total / posterior.size if posterior.size else 0.0


class TaskRows:
    """Rows of a ``(U, K)`` array made for the tasks asked for (an index or a mask), so the
    temperature search (:mod:`.tempering`) never needs the whole array."""

    def __init__(self, make: Callable[[np.ndarray], np.ndarray]) -> None:
        self.make = make

    def __getitem__(self, index: np.ndarray) -> np.ndarray:
        index = np.asarray(index)
        return self.make(np.flatnonzero(index) if index.dtype == bool else index)
