"""The multi-label fit of :mod:`.active`, a block of rows at a time.

Private helper of :mod:`.active`; assumes valid input. The typical annotator's rates are fitted
by EM over the tasks with two or more annotations (see :mod:`.active` for the model): each round
adds every vote's log-likelihood ratio to the model's log-odds, then sums, per class, the
posterior over the shared tasks' votes. Both are done here over blocks of rows into one
``(n, K)`` buffer, so a round holds no ``(A, K)`` or ``(n, K)`` temporary (at a million tasks
of 50 classes and three annotations each: 1.1 GB and 0.4 GB each, where the whole-array form
held about a dozen). The votes are added to the log-odds in the table's order (``np.add.at``
adds in index order) and the class sums run over the rows in order
(:func:`~.blocks.column_sums`), so the results are the same to the bit as the whole-array form.
"""

from __future__ import annotations

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators.blocks import column_sums, row_blocks

__all__ = ["add_votes", "fit_multi", "logit", "sigmoid", "vote_evidence"]

#: Prior sensitivity and false-positive rate of a typical annotator.
PRIOR_SENSITIVITY = 0.9
PRIOR_FALSE_POSITIVE_RATE = 0.05
#: The change of the rates that stops EM.
TOL = 1e-6
EPS = 1e-6  # probabilities are kept in [EPS, 1 - EPS] before taking logits


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def vote_evidence(labels: np.ndarray, sens: np.ndarray, fpr: np.ndarray) -> np.ndarray:
    """Each annotation's log-likelihood ratio per class, ``(r, K)``, from its labels."""
    s, f = np.clip(sens, EPS, 1 - EPS), np.clip(fpr, EPS, 1 - EPS)
    marked = labels.astype(np.float64)
    return marked * np.log(s / f) + (1 - marked) * np.log((1 - s) / (1 - f))


def add_votes(out: np.ndarray, ann: Annotations, sens: np.ndarray, fpr: np.ndarray) -> None:
    """Add every annotation's log-likelihood ratios to its task's row of ``out`` ``(n, K)``, in
    place, a block of annotations at a time in the table's order."""
    for rows in row_blocks(len(ann), out.shape[1]):
        np.add.at(out, ann.task[rows], vote_evidence(ann.labels[rows], sens, fpr))


def _model_logits(probs: np.ndarray) -> np.ndarray:
    out = np.empty(probs.shape)
    for rows in row_blocks(len(probs), probs.shape[1]):
        out[rows] = logit(probs[rows])
    return out


def _rate_sums(
    z: np.ndarray, ann: Annotations, shared: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per class, over the votes ``shared`` (rows of ``ann``): ``sum T y``, ``sum T``,
    ``sum (1 - T) y`` and ``sum (1 - T)``, ``T`` the posterior from the log-odds ``z``."""
    k = z.shape[1]

    def block(rows: slice) -> np.ndarray:
        at = shared[rows]
        others = sigmoid(z[ann.task[at]])
        marked = ann.labels[at].astype(np.float64)
        return np.hstack((others * marked, others, (1 - others) * marked, 1 - others))

    sums = column_sums(block, len(shared), 4 * k)
    return sums[:k], sums[k : 2 * k], sums[2 * k : 3 * k], sums[3 * k :]


def fit_multi(
    probs: np.ndarray, ann: Annotations | None, weight: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The typical annotator's rates ``(K,)`` by EM and the posterior log-odds ``(n, K)``
    under them: ``(logit, sensitivity, false-positive rate)``."""
    k = probs.shape[1]
    sens, fpr = np.full(k, PRIOR_SENSITIVITY), np.full(k, PRIOR_FALSE_POSITIVE_RATE)
    prior = _model_logits(probs)
    if ann is None:
        return prior, sens, fpr
    shared = np.flatnonzero(np.bincount(ann.task, minlength=len(probs))[ann.task] >= 2)
    z = np.empty_like(prior)
    for _ in range(max_iter):
        np.copyto(z, prior)
        add_votes(z, ann, sens, fpr)
        hit, seen, false, unseen = _rate_sums(z, ann, shared)
        new_sens = (hit + weight * PRIOR_SENSITIVITY) / (seen + weight)
        new_fpr = (false + weight * PRIOR_FALSE_POSITIVE_RATE) / (unseen + weight)
        change = max(np.abs(new_sens - sens).max(), np.abs(new_fpr - fpr).max())
        sens, fpr = new_sens, new_fpr
        if change < TOL:
            break
    np.copyto(z, prior)
    del prior
    add_votes(z, ann, sens, fpr)
    return z, sens, fpr
