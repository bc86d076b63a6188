"""Annotator quality from the calibrated consensus: each annotator's expected agreement with the
truth, averaged over the tasks on which more than its own answer speaks.

Private helper of :mod:`ls_cleanlab.annotators` (the ``calibrated`` runners); assumes valid
input (``U`` annotated tasks, ``M`` annotators, ``K`` classes, see :class:`.votes.Votes`).

Per answer, the expected agreement with the truth under the posterior of :mod:`.calibrated`: the
expected Jaccard index of the set (multi-label, :mod:`.jaccard`) or the probability the class is
right (single-label). An annotator's quality is their mean over its tasks where another source
speaks besides its own answer: every task when the model is part of the fit (it was calibrated
and passed its test, with a share above 0), else the tasks with two or more answers (all its
tasks when it shares none).

With the model, a task answered alone is judged by the model weighed against the annotator's
measured rates, so the mean covers all of the annotator's work, as the annotator's true mean
agreement does. Without it, the posterior of a lone task is the annotator's own answer read
through its own rates: it says nothing of the annotator that the rates do not, and what checks
the rates is the other answers on the shared tasks, so it would only pull every annotator toward
the rates' prior. On the 160 random regimes of the
robustness benchmark the ranking met its target in 112 -> 117 of 136; over all tasks without a
model it lost one of 21 (README, Robustness). It assumes an annotator labels its lone tasks as
it labels its shared ones.

Single-label with many classes and no model, the confusion matrices are measured without the
lone answers (:mod:`.measured`), and there too the mean is over every task: a lone task's
posterior then weighs the annotator's class against the class prior through rates measured
elsewhere, so an annotator whose answers do not follow the classes' frequencies (a spammer
choosing classes at random) shows it on its lone tasks as well (random regime 2/36, 41 workers
sharing 0-7 tasks each: Spearman 0.55 over the shared tasks, 0.66 over all; 0.60 before the
rates were measured). Where weak workers answer by the classes' frequencies it ranks them less
well (README, Robustness, "Sparse overlap, single-label").

Multi-label, an empty set is read as a vote of its own (:mod:`.emptiness`: a satisficer's empty
set means "nothing here" though each of its "absent" votes is weak; without it Birds in
satisficer + careless pairs ranked 0.00-0.43, with it 0.82-0.98).
"""

from __future__ import annotations

import numpy as np

from ls_cleanlab.annotators import emptiness, tempering
from ls_cleanlab.annotators.calibrated import BinaryFit, MulticlassFit, binary_evidence
from ls_cleanlab.annotators.estep import BinaryEvidence
from ls_cleanlab.annotators.jaccard import jaccard_cells, jaccard_rows
from ls_cleanlab.annotators.votes import Votes, key_means

__all__ = ["binary_quality", "multiclass_quality"]


def binary_quality(votes: Votes, fit: BinaryFit) -> np.ndarray:
    """``(M,)`` mean expected Jaccard index of each annotator's sets with the truth under the
    posterior, empty sets read as votes of their own (:func:`.emptiness.refit`), over the tasks
    the module docstring says."""
    weights = tempering.task_weights(votes.count, fit.dependence)

    def evidence(votes: Votes, se: np.ndarray, fp: np.ndarray) -> np.ndarray:
        if fit.vote_weight is None:
            return binary_evidence(votes, se, fp)
        return BinaryEvidence(votes, se, fp, fit.vote_weight).full()  # :mod:`.dependence`

    read = emptiness.refit(votes, fit.logit, fit.se, fit.fp, weights, evidence)
    if read is None:
        score = jaccard_rows(votes.labels, fit.logit, votes.task)
    else:
        score = jaccard_cells(votes.labels, read.cells, read.empty, votes.task)
    return _per_annotator(votes, score, fit.calibration is not None and fit.model_share > 0.0)


def multiclass_quality(votes: Votes, fit: MulticlassFit) -> np.ndarray:
    """``(M,)`` mean probability that each annotator's class is right under the posterior
    (module docstring)."""
    y = votes.class_index()
    model = fit.calibration is not None and fit.model_share > 0.0
    return _per_annotator(votes, fit.posterior[votes.task, y], model or fit.every)


def _per_annotator(votes: Votes, score: np.ndarray, every: bool) -> np.ndarray:
    """``(M,)`` mean of ``score`` ``(A,)`` over each annotator's tasks: all of them with
    ``every``, else those with two or more answers (all when it shares none)."""
    on_all = key_means(score, votes.annotator, votes.n_annotators)
    if every:
        return on_all
    shared = votes.count[votes.task] > 1
    on_shared = key_means(score[shared], votes.annotator[shared], votes.n_annotators)
    return np.where(np.isnan(on_shared), on_all, on_shared)
