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
before: measuring every annotator's rates on the shared tasks alone, shrunk toward the same
annotator, let spammers who share no task pass for good workers against a model that exposes
them (random regimes 0/4, 12 spammers of 25: Spearman 0.86 -> 0.64; 0/39 accuracy 0.85 ->
0.79; 3/25 tasks left wrong after 10% 176 -> 336).

Single-label, the many-class form (:func:`.rates.confusion_rates`) is measured the same way,
its accuracy per class shrunk toward the same annotator (:func:`default_confusion`). Annotator
quality then averages the posterior of each annotator's class over all its tasks
(:mod:`.quality`), not only over the shared ones: a lone task's posterior
no longer confirms the annotator's own rates (they were measured elsewhere), so it is the
model's estimate of whether that answer is right, and over all tasks it estimates the
annotator's accuracy on all its work, which is what the ranking is about. Over the shared
tasks alone, with the rates measured there, workers with one or two shared tasks scored 0 or 1
(2/36, 41 workers sharing 0-7 tasks: Spearman 0.60 -> 0.55; over all tasks 0.66, and 115
wrong tasks -> 103, the vote's 102). What this assumes: a worker's lone answers are as good as
its shared ones. Where weak workers answer by the classes' frequencies their lone answers look
plausible under the prevalence, and averaging them in dilutes what the shared tasks show
(``tests/annotators/test_sparse_overlap.py``, 12 frequency guessers among 40 workers, 20
projects: AUC of quality separating them from careful workers 0.85 -> 0.80, while the
consensus went from 3.1 to 1.5 points below the vote's accuracy; the rest of that gap is rare
classes whose prevalence EM drives to zero). The
few-class form keeps every task: its half answer per cell has no such prior, and measuring it
on shared tasks overrated weak workers (0/14, Spearman 0.93 -> 0.83 for the same consensus).
In multi-label, quality stays on the shared tasks: over all tasks it ranked 0/20's three
workers 1.0 -> 0.5.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ls_cleanlab.annotators.rates import binary_rates, confusion_rates

if TYPE_CHECKING:
    from ls_cleanlab.annotators.collapse import Rates
    from ls_cleanlab.annotators.gold import Known
    from ls_cleanlab.annotators.votes import Votes

__all__ = ["AGREEMENT", "MeasuredVotes", "default_confusion", "default_rates"]

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


def default_confusion(prevalence: np.ndarray) -> np.ndarray:
    """``(K, K)`` confusion matrix ``[true c, given l]`` of the same annotator, single-label:
    ``q [c = l] + (1 - q) pi_l``."""
    pi = np.clip(prevalence, EPS, None)
    pi = pi / pi.sum()
    return AGREEMENT * np.eye(len(pi)) + (1.0 - AGREEMENT) * pi[None, :]


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

    def binary_rates(
        self, posterior: np.ndarray, weight: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sensitivity and false-positive rate ``(M, K)`` under the posterior ``(U, K)``, each
        vote counted ``weight`` ``(A,)`` times when given (:mod:`.dependence`)."""
        if self.units is None:
            return binary_rates(self.votes, posterior, weight=weight)
        default = default_rates(posterior.mean(axis=0))
        kept = None if weight is None else weight[self.units[self.votes.task]]
        return binary_rates(self.measured, posterior[self.units], default, kept)

    def confusion(
        self, rates: Rates, posterior: np.ndarray, weight: np.ndarray | None = None
    ) -> np.ndarray:
        """``(M, K, K)`` confusion matrices by ``rates`` under the posterior ``(U, K)``: the
        many-class form from the measured tasks, shrunk toward :func:`default_confusion`;
        the few-class form and the one-coin fits of :mod:`.collapse` from every task. Each
        vote counts ``weight`` ``(A,)`` times when given (:mod:`.dependence`)."""
        if self.units is None or not self.measures(rates):
            return rates(self.votes, posterior, weight=weight)
        error = 1.0 - np.diagonal(default_confusion(posterior.mean(axis=0)))
        kept = None if weight is None else weight[self.units[self.votes.task]]
        return confusion_rates(self.measured, posterior[self.units], error, kept)

    def measures(self, rates: Rates) -> bool:
        """Whether ``rates`` leave the lone answers out (:meth:`confusion`)."""
        return self.units is not None and rates is confusion_rates
