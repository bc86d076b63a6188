"""Evidence that a label was left out (search satisficing) or added by mistake, per cell.

An annotator who stops after finding one object leaves classes out; the most common multi-label
error is a missing label. For every cell ``(i, k)`` of the label matrix this module measures
evidence about the *true* value beyond what the annotators wrote, in log-odds:

* the model: ``logit p_ik`` from out-of-sample probabilities (confident learning's view: a class
  given absent but confidently predicted present is likely missing, and the mirror case
  spurious);
* label co-occurrence learned from the data: when class ``A`` is given on a task and ``B``
  nearly always comes with ``A`` (``P(B | A)`` high), an absent ``B`` is suspicious. The feature
  is the positive log-odds lift ``logit P(B | A) - logit P(B)`` of the strongest present ``A``,
  with ``P(B | A)`` shrunk toward ``P(B)`` when ``A`` is rare;
* the cardinality deficit: the model's expected number of labels on the task minus the number
  given, both counted without the cell's own class, so that a task with too few labels raises the
  odds of each of its absent classes.

The model's log-odds are kept as they are, so with no other evidence the audit ranks as
confident learning does. The co-occurrence weight is learned per class by a small logistic
regression of the given labels on the signals (the labels are mostly right, so their dependence
on a signal estimates its value; each cell's own value never enters its features) and counts
only where a likelihood-ratio test says it helps; the deficit weighs up to one unit of log-odds
per missing label, scaled by how far the data show labels are missing (:func:`deficit_weight`,
:func:`consensus_shortfall_weight`). Both only ever raise the odds of presence: they are
evidence of a miss. :mod:`ls_cleanlab.audit` turns the evidence into cell scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "CellEvidence",
    "Cooccurrence",
    "cell_evidence",
    "consensus_shortfall_weight",
    "cooccurrence",
    "cooccurrence_lift",
    "deficit_weight",
    "fit_logistic_per_class",
    "logit",
    "sigmoid",
]

#: Probabilities are clipped to [EPS, 1 - EPS] before taking log-odds.
EPS = 1e-4
#: Pseudo-counts that shrink P(B | A) toward P(B) for rarely given A.
SHRINKAGE = 5.0
#: Rows used to fit the per-class weights; more adds time and no accuracy.
FIT_ROWS = 10_000
#: Ridge penalty of the per-class logistic regressions (on standardized features).
RIDGE = 1.0
#: Log-odds added to each absent class per label the model expects beyond those given, at most
#: (scaled by :func:`deficit_weight` or :func:`consensus_shortfall_weight`).
DEFICIT_WEIGHT = 1.0
#: Likelihood-ratio statistic a class's co-occurrence lift must exceed to count (p < 0.001).
LIFT_CHI2 = 10.83
#: Label sets drawn from the model to count the short tasks its uncertainty alone produces.
NULL_DRAWS = 8
#: Standard deviations by which short tasks must exceed that null for the deficit to count.
DEFICIT_Z = 3.0


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
    labels: np.ndarray, cooc: Cooccurrence, *, chunk: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """For each cell, the strongest positive co-occurrence lift from the other classes given on
    its task.

    Returns
    -------
    lift : ndarray, shape (n, K)
        ``max(0, max_a logit P(k | a) - logit P(k))`` over classes ``a != k`` given on task
        ``i``; 0 when no other class raises the odds of ``k``.
    source : ndarray of int, shape (n, K)
        The class ``a`` reaching the maximum, -1 where the lift is 0.
    """
    n, k = labels.shape
    table = logit(cooc.conditional) - logit(cooc.prevalence)[None, :]  # (a, b)
    np.fill_diagonal(table, 0.0)
    table = np.maximum(table, 0.0).astype(np.float32)
    lift = np.zeros((n, k), dtype=np.float64)
    source = np.full((n, k), -1, dtype=np.int64)
    present = labels.astype(np.float32)
    for start in range(0, n, chunk):
        rows = present[start : start + chunk]
        # (rows, a, b): the lift from a to b where a is given, 0 elsewhere
        candidates = rows[:, :, None] * table[None, :, :]
        best = np.argmax(candidates, axis=1)
        value = np.take_along_axis(candidates, best[:, None, :], axis=1)[:, 0, :]
        lift[start : start + chunk] = value
        source[start : start + chunk] = np.where(value > 0, best, -1)
    return lift, source


def deficit_weight(deficit: np.ndarray, pred_probs: np.ndarray, rng: np.random.Generator) -> float:
    """How much a task's label deficit counts: the share of short tasks the model cannot explain,
    if that excess is significant.

    If annotators miss labels, more tasks fall a label or more short of the expected count than
    the model's own uncertainty produces. The null is simulated: :data:`NULL_DRAWS` label sets
    drawn from ``pred_probs`` itself, giving the expected number ``m`` of short tasks without
    missing labels. The deficit counts only when the observed number ``s`` exceeds it by more
    than :data:`DEFICIT_Z` binomial standard deviations; its weight is then
    :data:`DEFICIT_WEIGHT` ``* (s - m) / s``. Spurious labels make tasks long, not short, and
    swapped labels or honest noise stay within the null: both give 0.
    """
    short = np.count_nonzero(deficit >= 1.0)
    if short == 0:
        return 0.0
    expected = pred_probs.sum(axis=1)
    null = 0.0
    for _ in range(NULL_DRAWS):
        drawn = expected - (rng.random(pred_probs.shape) < pred_probs).sum(axis=1)
        drawn -= max(float(np.median(drawn)), 0.0)  # shifted as the observed deficit is
        null += np.count_nonzero(drawn >= 1.0) / NULL_DRAWS
    share = null / len(deficit)
    spread = np.sqrt(max(len(deficit) * share * (1 - share), 1.0))
    if short - null <= DEFICIT_Z * spread:
        return 0.0
    return DEFICIT_WEIGHT * (short - null) / short


def fit_logistic_per_class(
    features: np.ndarray,
    target: np.ndarray,
    *,
    ridge: float = RIDGE,
    iterations: int = 20,
    return_loglik: bool = False,
) -> Any:
    """Fit one ridge-penalized logistic regression per class by Newton's method, all at once.

    Parameters
    ----------
    features : ndarray, shape (n, K, F)
        Features of each cell; an intercept is added.
    target : ndarray of 0/1, shape (n, K)

    Returns
    -------
    weights : ndarray, shape (K, F + 1)
        Intercept then one weight per feature, on the original feature scale. The intercept is
        not penalized.
    loglik : ndarray, shape (K,)
        With ``return_loglik``, the log-likelihood of each class's fit.
    """
    n, k, f = features.shape
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    # one (n, F + 1) design matrix per class, classes first, so products are batched matmuls
    x = np.concatenate([np.ones((n, k, 1)), (features - mean) / scale], axis=2)
    x = np.ascontiguousarray(x.transpose(1, 0, 2))
    xt = np.ascontiguousarray(x.transpose(0, 2, 1))
    y = np.ascontiguousarray(target.T, dtype=np.float64)
    w = np.zeros((k, f + 1))
    penalty = np.full(f + 1, ridge)
    penalty[0] = 1e-6
    for _ in range(iterations):
        p = sigmoid((x @ w[:, :, None])[:, :, 0])
        gradient = (xt @ (p - y)[:, :, None])[:, :, 0] + penalty * w
        hessian = (xt * (p * (1 - p))[:, None, :]) @ x + np.diag(penalty)[None]
        step = np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    # back to the original scale: w0 + sum_j w_j (x_j - m_j) / s_j
    slopes = w[:, 1:] / scale
    intercept = w[:, 0] - (slopes * mean).sum(axis=1)
    weights = np.concatenate([intercept[:, None], slopes], axis=1)
    if not return_loglik:
        return weights
    z = (x @ w[:, :, None])[:, :, 0]
    loglik = -(np.logaddexp(0.0, z) - y * z).sum(axis=1)
    return weights, loglik


@dataclass(frozen=True)
class CellEvidence:
    """Evidence about the true value of every cell, in log-odds of "present".

    Attributes
    ----------
    model : ndarray, shape (n, K) or None
        The model's log-odds ``logit p``, or None without probabilities.
    extra : ndarray, shape (n, K)
        What co-occurrence and the cardinality deficit add to the log-odds.
    lift, lift_source : ndarray, shape (n, K)
        See :func:`cooccurrence_lift`.
    deficit : ndarray, shape (n,) or None
        Expected minus given label count per task, minus its median over tasks (None without
        probabilities).
    lift_weight : ndarray, shape (K,)
        The fitted weight of the (non-negative) lift per class.
    cooc : Cooccurrence
    """

    model: np.ndarray | None
    extra: np.ndarray
    lift: np.ndarray
    lift_source: np.ndarray
    deficit: np.ndarray | None
    lift_weight: np.ndarray
    cooc: Cooccurrence


def consensus_shortfall_weight(
    pred_probs: np.ndarray, given: np.ndarray, votes: np.ndarray, rng: np.random.Generator
) -> float:
    """The deficit's weight when several annotators agreed on the labels.

    A vote over label sets drops a class only a minority marked. If those minority labels are
    real (annotators each found a different subset: search satisficing), the model rates them
    higher than the other absent cells, and the consensus is short where the model expects more.
    If they are noise (random slips), the model rates them like any absent cell. The weight is
    :data:`DEFICIT_WEIGHT` times Somers' D of the model's probabilities between minority-marked
    and unmarked absent cells, 0 when negative (at most :data:`FIT_ROWS` cells of each kind).
    """
    absent = ~given
    minority = pred_probs[absent & (votes > 0)]
    unmarked = pred_probs[absent & (votes == 0)]
    if len(minority) == 0 or len(unmarked) == 0:
        return 0.0
    if len(minority) > FIT_ROWS:
        minority = rng.choice(minority, FIT_ROWS, replace=False)
    if len(unmarked) > FIT_ROWS:
        unmarked = rng.choice(unmarked, FIT_ROWS, replace=False)
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([minority, unmarked]))[: len(minority)]
    auc = (ranks.sum() - len(minority) * (len(minority) + 1) / 2) / (len(minority) * len(unmarked))
    return DEFICIT_WEIGHT * max(0.0, 2 * auc - 1)


def _lift_fit(
    given: np.ndarray, lift: np.ndarray, pred_probs: np.ndarray | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The per-cell features (model log-odds when given, lift, other classes given) and each
    class's lift weight: its logistic coefficient where the lift passes the likelihood-ratio
    test, else 0."""
    n = len(given)
    others = given.sum(axis=1, keepdims=True) - given
    columns = [lift, others.astype(np.float64)]
    if pred_probs is not None:
        columns.insert(0, logit(pred_probs))
    features = np.stack(columns, axis=2)
    rows: np.ndarray = np.arange(n)
    if n > FIT_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(n, FIT_ROWS, replace=False))
    weights, loglik = fit_logistic_per_class(features[rows], given[rows], return_loglik=True)
    _, without = fit_logistic_per_class(
        np.delete(features[rows], -2, axis=2), given[rows], return_loglik=True
    )
    # a lift that does not improve the fit significantly (likelihood-ratio test) is noise
    significant = 2 * (loglik - without) > LIFT_CHI2
    return features, np.where(significant, np.maximum(weights[:, -2], 0.0), 0.0)


def cell_evidence(
    labels: np.ndarray,
    pred_probs: np.ndarray | None,
    *,
    seed: int = 0,
    votes: np.ndarray | None = None,
) -> CellEvidence:
    """Measure what co-occurrence and the cardinality deficit add to the model about each cell.

    The co-occurrence weight of each class is fitted by a logistic regression of its given
    labels on the model's log-odds, the (non-negative) lift and the number of other classes given
    on the task. The last term absorbs how thoroughly a task was labelled: without it, the lift
    (a maximum over the other given classes) would mostly measure that, and a satisficed task,
    short of labels, would look *less* likely to miss one. A lift that fails the likelihood-ratio
    test (:data:`LIFT_CHI2`) gets weight 0. Each label the model expects beyond those given adds
    up to :data:`DEFICIT_WEIGHT` to the log-odds of every absent class of the task, scaled by
    :func:`deficit_weight` (one annotator) or :func:`consensus_shortfall_weight` (several).

    Parameters
    ----------
    labels : ndarray of 0/1, shape (n, K)
        The label sets the audit treats as given (a single annotator's, or the consensus).
    pred_probs : ndarray, shape (n, K), optional
        Out-of-sample probabilities that each class is present.
    seed : int
        Seeds the choice of rows the weights are fitted on when there are more than
        :data:`FIT_ROWS` tasks.
    votes : ndarray of int, shape (n, K), optional
        With several annotators, how many marked each class: the deficit is then weighted by
        :func:`consensus_shortfall_weight`, else by :func:`deficit_weight`.
    """
    given = labels.astype(bool)
    cooc = cooccurrence(given)
    lift, source = cooccurrence_lift(given, cooc)
    features, lift_weight = _lift_fit(given, lift, pred_probs, seed)
    extra = lift_weight[None, :] * lift
    model = deficit = None
    if pred_probs is not None:
        model = features[:, :, 0]
        # shifted down when the model predicts more labels than given on the typical task
        # (uncalibrated, or trained on labels that are all short), never up: a task with extra
        # (spurious) labels must not make the others look short
        raw = pred_probs.sum(axis=1) - given.sum(axis=1)
        deficit = raw - max(float(np.median(raw)), 0.0)
        # the cell's own class is left out, so its value never predicts itself
        own = pred_probs - given
        loo = np.maximum(deficit[:, None] - (own - np.median(own, axis=0)), 0.0)
        rng = np.random.default_rng(seed)
        if votes is None:
            weight = deficit_weight(deficit, pred_probs, rng)
            # co-occurrence explains the given labels even when none are missing (classes that
            # come together): with a model it counts only where labels are shown to be missing
            if weight == 0.0:
                lift_weight = np.zeros_like(lift_weight)
                extra = np.zeros_like(extra)
        else:
            weight = consensus_shortfall_weight(pred_probs, given, votes, rng)
        extra += weight * loo
    return CellEvidence(
        model=model,
        extra=extra,
        lift=lift,
        lift_source=source,
        deficit=deficit,
        lift_weight=lift_weight,
        cooc=cooc,
    )
