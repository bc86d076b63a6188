"""Evidence that a label was left out (search satisficing) or added by mistake, per cell.

An annotator who stops after finding one object leaves classes out; the most common multi-label
error is a missing label. For every cell ``(i, k)`` of the label matrix this module measures
evidence about the *true* value beyond what the annotators wrote, in log-odds:

* the model: ``logit p_ik`` from out-of-sample probabilities (confident learning's view: a class
  given absent but confidently predicted present is likely missing, and the mirror case
  spurious);
* label co-occurrence learned from the data: when class ``A`` is given on a task and ``B``
  nearly always comes with ``A`` (``P(B | A)`` high), an absent ``B`` is suspicious. The feature
  is the log-odds lift ``logit P(B | A) - logit P(B)`` of the strongest present ``A``, with
  ``P(B | A)`` shrunk toward ``P(B)`` when ``A`` is rare;
* the cardinality deficit: the model's expected number of labels on the task minus the number
  given, both counted without the cell's own class, so that a task with too few labels raises the
  odds of each of its absent classes.

How much each signal is worth is learned per class by a small logistic regression of the given
labels on the signals (the labels are mostly right, so their dependence on a signal estimates its
value; each cell's own value never enters its features). The fitted log-odds are the evidence
:func:`cell_evidence` returns; :mod:`ls_cleanlab.audit` turns them into cell scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CellEvidence",
    "Cooccurrence",
    "cell_evidence",
    "cooccurrence",
    "cooccurrence_lift",
    "fit_logistic_per_class",
    "logit",
    "sigmoid",
]

#: Probabilities are clipped to [EPS, 1 - EPS] before taking log-odds.
EPS = 1e-4
#: Pseudo-counts that shrink P(B | A) toward P(B) for rarely given A.
SHRINKAGE = 5.0
#: Rows used to fit the per-class weights; more adds time and no accuracy.
FIT_ROWS = 20_000
#: Ridge penalty of the per-class logistic regressions (on standardized features).
RIDGE = 1.0


def logit(p: np.ndarray) -> np.ndarray:
    """``log(p / (1 - p))`` with ``p`` clipped to ``[EPS, 1 - EPS]``."""
    q = np.clip(p, EPS, 1 - EPS)
    return np.log(q) - np.log1p(-q)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The inverse of :func:`logit`, without overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@dataclass(frozen=True)
class Cooccurrence:
    """Label co-occurrence learned from a label matrix.

    Attributes
    ----------
    counts : ndarray of int, shape (K, K)
        ``counts[a, b]``: tasks given both ``a`` and ``b``; the diagonal holds class counts.
    prevalence : ndarray, shape (K,)
        Share of tasks given each class.
    conditional : ndarray, shape (K, K)
        ``conditional[a, b]``: ``P(b | a)``, shrunk toward ``P(b)`` by :data:`SHRINKAGE`
        pseudo-counts; the diagonal is 1.
    """

    counts: np.ndarray
    prevalence: np.ndarray
    conditional: np.ndarray


def cooccurrence(labels: np.ndarray) -> Cooccurrence:
    """Co-occurrence counts and smoothed conditional probabilities of an ``(n, K)`` 0/1 matrix."""
    matrix = labels.astype(np.float32)
    counts = np.rint(matrix.T @ matrix).astype(np.int64)
    n = max(len(labels), 1)
    given = np.diag(counts).astype(np.float64)
    prevalence = given / n
    conditional = (counts + SHRINKAGE * prevalence[None, :]) / (given[:, None] + SHRINKAGE)
    np.fill_diagonal(conditional, 1.0)
    return Cooccurrence(counts=counts, prevalence=prevalence, conditional=conditional)


def cooccurrence_lift(
    labels: np.ndarray, cooc: Cooccurrence, *, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """For each cell, the strongest co-occurrence lift from the other classes given on its task.

    Returns
    -------
    lift : ndarray, shape (n, K)
        ``max_a logit P(k | a) - logit P(k)`` over classes ``a != k`` given on task ``i``; 0 when
        the task has no other class.
    source : ndarray of int, shape (n, K)
        The class ``a`` reaching the maximum, -1 where there is none.
    """
    n, k = labels.shape
    base = logit(cooc.prevalence)
    lift_table = logit(cooc.conditional) - base[None, :]  # (a, b)
    np.fill_diagonal(lift_table, -np.inf)
    lift = np.zeros((n, k), dtype=np.float64)
    source = np.full((n, k), -1, dtype=np.int64)
    present = labels.astype(bool)
    for start in range(0, n, chunk):
        rows = present[start : start + chunk]
        # (rows, a, b): the lift from a to b where a is given, -inf elsewhere
        table = np.where(rows[:, :, None], lift_table[None, :, :], -np.inf)
        best = np.argmax(table, axis=1)
        value = np.take_along_axis(table, best[:, None, :], axis=1)[:, 0, :]
        found = np.isfinite(value)
        lift[start : start + chunk] = np.where(found, value, 0.0)
        source[start : start + chunk] = np.where(found, best, -1)
    return lift, source


def fit_logistic_per_class(
    features: np.ndarray, target: np.ndarray, *, ridge: float = RIDGE, iterations: int = 25
) -> np.ndarray:
    """Fit one ridge-penalized logistic regression per class by Newton's method, all at once.

    Parameters
    ----------
    features : ndarray, shape (n, K, F)
        Features of each cell; an intercept is added.
    target : ndarray of 0/1, shape (n, K)

    Returns
    -------
    ndarray, shape (K, F + 1)
        Intercept then one weight per feature, on the original feature scale. The intercept is
        not penalized.
    """
    n, k, f = features.shape
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    x = np.concatenate([np.ones((n, k, 1)), (features - mean) / scale], axis=2)
    y = target.astype(np.float64)
    w = np.zeros((k, f + 1))
    penalty = np.full(f + 1, ridge)
    penalty[0] = 1e-6
    for _ in range(iterations):
        z = np.einsum("nkf,kf->nk", x, w)
        p = sigmoid(z)
        gradient = np.einsum("nkf,nk->kf", x, p - y) + penalty * w
        weight = p * (1 - p)
        hessian = np.einsum("nkf,nk,nkg->kfg", x, weight, x) + np.diag(penalty)[None]
        step = np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    # back to the original scale: w0 + sum_j w_j (x_j - m_j) / s_j
    slopes = w[:, 1:] / scale
    intercept = w[:, 0] - (slopes * mean).sum(axis=1)
    return np.concatenate([intercept[:, None], slopes], axis=1)


@dataclass(frozen=True)
class CellEvidence:
    """Evidence about the true value of every cell, in log-odds of "present".

    Attributes
    ----------
    model : ndarray, shape (n, K) or None
        The model's log-odds as refitted per class (intercept and slope on ``logit p``), or None
        without probabilities.
    extra : ndarray, shape (n, K)
        What co-occurrence and the cardinality deficit add to the log-odds.
    lift, lift_source : ndarray, shape (n, K)
        See :func:`cooccurrence_lift`.
    deficit : ndarray, shape (n,) or None
        Expected minus given label count per task (None without probabilities).
    weights : ndarray, shape (K, F + 1)
        The fitted per-class weights: intercept, then ``logit p`` (when given), lift, deficit.
    cooc : Cooccurrence
    """

    model: np.ndarray | None
    extra: np.ndarray
    lift: np.ndarray
    lift_source: np.ndarray
    deficit: np.ndarray | None
    weights: np.ndarray
    cooc: Cooccurrence


def cell_evidence(
    labels: np.ndarray, pred_probs: np.ndarray | None, *, seed: int = 0
) -> CellEvidence:
    """Learn how much the model, co-occurrence and the cardinality deficit say about each cell.

    Parameters
    ----------
    labels : ndarray of 0/1, shape (n, K)
        The label sets the audit treats as given (a single annotator's, or the consensus).
    pred_probs : ndarray, shape (n, K), optional
        Out-of-sample probabilities that each class is present.
    seed : int
        Seeds the choice of rows the weights are fitted on when there are more than
        :data:`FIT_ROWS` tasks.
    """
    n = len(labels)
    given = labels.astype(bool)
    cooc = cooccurrence(given)
    lift, source = cooccurrence_lift(given, cooc)
    columns = []
    deficit = None
    if pred_probs is not None:
        columns.append(logit(pred_probs))
        deficit = pred_probs.sum(axis=1) - given.sum(axis=1)
        # leave the cell's own class out, so its value never predicts itself
        columns.append(deficit[:, None] - (pred_probs - given))
    columns.insert(1 if pred_probs is not None else 0, lift)
    features = np.stack(columns, axis=2)
    rows = np.arange(n)
    if n > FIT_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(n, FIT_ROWS, replace=False))
    weights = fit_logistic_per_class(features[rows], given[rows])
    has_model = pred_probs is not None
    if has_model:
        # a model that does not rank its own class is no evidence; never flip its meaning
        weights[:, 1] = np.maximum(weights[:, 1], 0.0)
    first = 2 if has_model else 1
    # more co-occurrence or a larger deficit only ever raises the odds of presence; a negative
    # fitted weight means the signal is confounded with how thoroughly tasks were labelled, so
    # it is dropped
    weights[:, first:] = np.maximum(weights[:, first:], 0.0)
    extra_weights = weights[:, first:]
    extra_features = features[:, :, 1:] if has_model else features
    extra = np.einsum("nkf,kf->nk", extra_features, extra_weights)
    model = None
    if has_model:
        model = weights[:, 0][None, :] + weights[:, 1][None, :] * features[:, :, 0]
    return CellEvidence(
        model=model,
        extra=extra,
        lift=lift,
        lift_source=source,
        deficit=deficit,
        weights=weights,
        cooc=cooc,
    )
