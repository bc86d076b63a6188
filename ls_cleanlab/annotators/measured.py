"""The calibrated consensus's rates learned only from the tasks that can measure them.

Private helper of :mod:`.calibrated`; assumes valid input. Without a model, a task with one
answer says nothing about its annotator's rates: its posterior is the prior moved by that very
answer, so counting it in the M-step confirms whatever the rates already were. Started from the
vote, EM then drifted: on projects where most tasks have one answer and workers share a few
(Label Studio's default of one annotation per task with some overlap for quality control), each
worker's rates slid toward chance, a lone answer no longer outweighed the class's prevalence,
and the consensus overruled it (robustness benchmark, random regime 2/24: 190 of 205 one-answer
tasks wrong, against the vote's 73; fitted false-positive rates 0.07-0.39 where the true ones
were 0-0.27). So, as :mod:`.active` does, the rates are estimated from the tasks with two or
more answers and the gold tasks; where that leaves classes or annotators with little evidence,
they are shrunk toward a better-than-chance annotator rather than a coin (:func:`default_rates`),
so that with no shared task at all each lone answer stays the consensus (2/24: 76 wrong tasks,
the vote's 76). With a model the lone answers are measured against it and every task counts, as
before.

Multi-label only. The single-label confusion matrices keep every task: leaving the lone answers
out of the many-class form, shrunk toward the same annotator, brought regime 2/36 (39 classes)
from 115 wrong tasks to 103 (the vote 102) but ranked its 41 workers worse (Spearman 0.60 ->
0.55), and in the few-class form, whose half answer per cell has no such prior, it overrated
weak workers (0/14, Spearman 0.93 -> 0.83 for the same consensus).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ls_cleanlab.annotators.rates import binary_rates

if TYPE_CHECKING:
    from ls_cleanlab.annotators.gold import Known
    from ls_cleanlab.annotators.votes import Votes

__all__ = ["AGREEMENT", "MeasuredVotes", "default_rates"]

#: The default annotator's labels: the truth with this probability, else a draw from the
#: prevalences (Cohen's kappa of the annotator with the truth). Any value above 1/2 keeps a lone
#: "present" vote above 1/2 at every prevalence below 1/2.
AGREEMENT = 0.8
EPS = 1e-6


def default_rates(prevalence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Miss and false-positive rates ``(K,)`` of an annotator who copies the truth with
    probability :data:`AGREEMENT` and otherwise marks class ``k`` with its prevalence ``pi_k``:
    ``miss = (1 - q)(1 - pi)``, ``fp = (1 - q) pi``. Under them a lone answer's posterior is
    ``q + (1 - q) pi`` where it marks the class and ``(1 - q) pi`` where it does not."""
    pi = np.clip(prevalence, EPS, 1 - EPS)
    return (1.0 - AGREEMENT) * (1.0 - pi), (1.0 - AGREEMENT) * pi


class MeasuredVotes:
    """The votes whose posterior measures the annotators' rates: every task with a model, else
    the tasks with two or more answers and the gold tasks (module docstring)."""

    def __init__(self, votes: Votes, known: Known | None, with_model: bool) -> None:
        units = None
        if not with_model:
            units = votes.count > 1
            if known is not None:
                units = units | known.units
            units = None if units.all() else units
        self.votes = votes
        self.units = units
        self.measured = votes if units is None else votes.restrict(units)

    def binary_rates(self, posterior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sensitivity and false-positive rate ``(M, K)`` under the posterior ``(U, K)``."""
        if self.units is None:
            return binary_rates(self.votes, posterior)
        default = default_rates(posterior.mean(axis=0))
        return binary_rates(self.measured, posterior[self.units], default)
