"""The annotators' rates under a model's probabilities taken as the prior as they stand.

Private helper of :mod:`ls_cleanlab.annotators` (moved out of :mod:`.calibrated`, whose EM it
shares but none of whose weighting); assumes valid input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import log_softmax

from ls_cleanlab.annotators import model_source
from ls_cleanlab.annotators.estep import BinaryEvidence, sigmoid
from ls_cleanlab.annotators.rates import binary_rates, confusion_rates

if TYPE_CHECKING:
    from ls_cleanlab.annotators.votes import Votes

__all__ = ["fixed_prior_em"]


def fixed_prior_em(
    votes: Votes, start: np.ndarray, probs: np.ndarray, max_iter: int, tol: float, multi_label: bool
) -> np.ndarray:
    """``(U, K)`` posterior with the model's probabilities taken as the prior as they stand
    and only the annotators' rates (or confusion matrices) estimated, by EM from ``start``.

    For a single annotator: with one vote per task the data cannot tell a label the annotator
    missed from a false positive of the model (both fit the same joint distribution of label
    and model score), so the model's calibration is not learned but assumed, as confident
    learning assumes it; the annotator's sensitivity and false-positive rate are then
    identified. (Learning the calibration too let EM explain a satisficer's misses as the
    model's false positives on a project where the model was right.)
    """
    posterior = start
    if multi_label:
        prior = model_source.model_logits(probs)
        for _ in range(max_iter):
            se, fp = binary_rates(votes, posterior)
            new = sigmoid(prior + BinaryEvidence(votes, se, fp).full())
            done = float(np.mean(np.abs(new - posterior))) < tol if new.size else True
            posterior = new
            if done:
                break
        return posterior
    log_prior = np.log(np.clip(probs, model_source.CLIP, None))
    y = votes.class_index()
    for _ in range(max_iter):
        log_conf = np.log(confusion_rates(votes, posterior))[votes.annotator, :, y]
        new = np.exp(log_softmax(log_prior + votes.task_sums(log_conf), axis=1))
        done = float(np.mean(np.abs(new - posterior))) < tol if new.size else True
        posterior = new
        if done:
            break
    return posterior
