"""How each annotator errs: one-sided rates per class, shrunk toward pooled rates.

Private helper of :mod:`ls_cleanlab.annotators`; assumes valid input. These are the M-steps of
:mod:`.calibrated` (Dawid & Skene 1979, with the hierarchical priors of Paun et al. 2018,
"Comparing Bayesian models of annotation", TACL 6).

Multi-label. Annotator ``j`` marks class ``k`` of a task whose truth is ``z`` with

* ``se_jk = P(y = 1 | z = 1)`` (sensitivity; ``1 - se`` is the miss rate), and
* ``fp_jk = P(y = 1 | z = 0)`` (false-positive rate; ``1 - fp`` is the specificity),

two separate rates, so a satisficer (misses labels, rarely adds one) has a low ``se`` and a tiny
``fp``: a "present" vote from them is strong evidence and an "absent" vote weak. Rates are
estimated from expected counts under the posterior ``T`` (``MISS_jk = sum T (1 - y)``,
``FP_jk = sum (1 - T) y`` over ``j``'s annotations) and shrunk at three levels, each a Beta
prior worth a number of errors (so a rare error is shrunk harder than a common one;
:data:`CLASS_EVENTS`, :data:`HABIT_EVENTS`, :data:`CELL_EVENTS`):

1. the class's rate over all annotators, toward the rate over all classes;
2. the annotator's rate pooled over classes, toward what the class rates predict for the
   annotator's tasks; its log-odds offset ``d_j`` from that prediction is the annotator's habit;
3. the annotator's rate on class ``k``, toward ``sigmoid(logit rate_k + d_j)``: per-class
   estimates where the data allow, the pooled habit where they do not.

Rates are clipped so that ``se_jk >= fp_jk``: a vote is never read as evidence for the opposite.

Single-label. Annotator ``j`` has a confusion matrix ``C_j[c, l] = P(y = l | z = c)``. With
few classes (at most :data:`FEW_CLASSES`) each row is smoothed as Dawid-Skene's usual form does,
half an answer in every cell (:func:`dirichlet_confusion`): on the five single-label crowd sets
(2-4 classes, a few dozen answers per worker) any pooling we tried left more wrong tasks after
review than that plain form, or ranked workers worse (Product: 0.9275 vs 0.9375 accuracy,
Spearman 0.68 vs 0.80). With many classes half an answer per cell would swamp a row (25 of
them with 50 classes), so there the accuracy on class ``c`` is shrunk like the rates above
(class accuracy, annotator offset, per class) and its errors spread like everybody's errors on
that class (:func:`confusion_rates`). Where a class's errors went is itself smoothed with at
least half an answer per cell: with one pseudo-error over all cells, the one error of a class
that a task's own votes showed confirmed itself (34 times as likely as an unseen one) and
three-way splits looked settled; with 50-200 classes and no model the review order then left up
to twice as many wrong tasks as ordering by vote share (``tests/annotators/test_many_classes.py``).
How much more than half an answer is measured (:func:`spread_concentration`): where the errors
scatter no more than evenly spread ones would, the spread is even; where they gather on a few
classes (confusable pairs), it follows them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ls_cleanlab.annotators.blocks import keyed_sums
from ls_cleanlab.annotators.votes import Votes, key_sums

__all__ = [
    "CELL_EVENTS",
    "CLASS_EVENTS",
    "CONFUSION_EVENTS",
    "FEW_CLASSES",
    "HABIT_EVENTS",
    "ConfusionCounts",
    "binary_rates",
    "confusion_counts",
    "confusion_rates",
    "dirichlet_confusion",
    "shrink_rate",
    "spread_concentration",
]

#: Strength of the three shrinkage priors of the multi-label rates, in errors: a Beta prior of
#: mean ``q`` worth ``E`` pseudo-errors weighs ``E / q`` pseudo-observations. The class's rate
#: over all annotators toward the rate over all classes (``CLASS_EVENTS``); the annotator's
#: pooled rate, its habit, toward what the class rates predict (``HABIT_EVENTS``, weak:
#: annotators differ most there, and it pools all their work); the annotator's rate on one
#: class toward class rate and habit combined (``CELL_EVENTS``, strong: with two annotators per
#: task the per-class rates otherwise feed on each other). On the design cells of the
#: robustness benchmark (pairs of a satisficer and a careless annotator), one prior of 0.5 errors
#: at every level lost up to 1.2 points of cell accuracy, one of 16 ranked annotators backwards
#: on a small set (birds, Spearman -0.2); these three held both.
CLASS_EVENTS = 4.0
HABIT_EVENTS = 1.0
CELL_EVENTS = 32.0
#: The same for single-label confusion matrices (one strength at every level), whose errors are
#: common (10-30%): there a strong prior makes every annotator with a few dozen answers look
#: average (on the crowd sets, 8 errors cost 3 points of accuracy against 0.5 on Dog and
#: Product).
CONFUSION_EVENTS = 0.5
#: Up to this many classes, single-label confusion rows get Dawid-Skene's plain smoothing.
FEW_CLASSES = 10
EPS = 1e-6
#: The spread's concentration when the errors scatter no more than evenly spread ones do.
EVEN = 1e6


def _logit(q: np.ndarray) -> np.ndarray:
    q = np.clip(q, EPS, 1 - EPS)
    return np.log(q) - np.log1p(-q)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def shrink_rate(
    errors: np.ndarray, total: np.ndarray, prior: np.ndarray, events: float
) -> np.ndarray:
    """Posterior mean of a rate with ``errors`` in ``total`` trials under a Beta prior of mean
    ``prior`` worth ``events`` errors: ``(errors + E) / (total + E / prior)``."""
    prior = np.clip(prior, EPS, 1 - EPS)
    return (errors + events) / (total + events / prior)


def _hierarchical(
    errors: np.ndarray,
    total: np.ndarray,
    events: tuple[float, float, float],
    default: np.ndarray | None = None,
) -> np.ndarray:
    """``(M, K)`` rates from ``(M, K)`` expected error counts in ``total`` trials, shrunk
    class -> annotator habit -> annotator and class with the three ``events`` strengths
    (module docstring). The rate over all classes has a uniform prior worth one error in two
    trials, or, given ``default`` ``(K,)``, one of that mean per class as strong as the class
    level's (:mod:`.measured`)."""
    prior = _cell_prior(errors, total, events, default)
    return shrink_rate(errors, total, prior, events[2])


def _cell_prior(
    errors: np.ndarray,
    total: np.ndarray,
    events: tuple[float, float, float],
    default: np.ndarray | None = None,
) -> np.ndarray:
    """``(M, K)`` prior mean of each annotator's rate on each class: the class rate shifted by
    the annotator's habit (levels 1 and 2 of :func:`_hierarchical`)."""
    if default is None:
        overall = np.full(errors.shape[1], (errors.sum() + 1.0) / (total.sum() + 2.0))
    else:
        overall = shrink_rate(errors.sum(), total.sum(), default, events[0])
    per_class = shrink_rate(errors.sum(axis=0), total.sum(axis=0), overall, events[0])
    expected = total @ per_class  # errors the class rates predict on each annotator's tasks
    seen = total.sum(axis=1)
    fallback = np.full(len(seen), float(per_class.mean()) if len(per_class) else 0.5)
    predicted = np.divide(expected, seen, out=fallback, where=seen > 0)
    pooled = shrink_rate(errors.sum(axis=1), seen, predicted, events[1])
    offset = _logit(pooled) - _logit(predicted)
    return _sigmoid(_logit(per_class)[None, :] + offset[:, None])


def binary_rates(
    votes: Votes,
    posterior: np.ndarray,
    default: tuple[np.ndarray, np.ndarray] | None = None,
    weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sensitivity and false-positive rate ``(M, K)`` of each annotator on each class under
    the posterior ``T`` ``(U, K)`` (module docstring); ``default``, the miss and false-positive
    rates ``(K,)`` that the rates over all classes are shrunk toward (else a uniform prior);
    ``weight`` ``(A,)``, what each vote counts for (:mod:`.dependence`; else 1 each): the
    M-step of the likelihood whose E-step weighs the votes so."""
    m, k = votes.n_annotators, posterior.shape[1]
    rows, cols = votes.marked
    key = votes.annotator[rows] * k + cols
    marked = posterior[votes.task[rows], cols]
    if weight is None:
        positives = votes.gather_from_tasks(posterior)  # sum T over each annotator's tasks
        given = votes.label_sums
    else:
        positives = keyed_sums(
            lambda at: posterior[votes.task[at]] * weight[at, None], votes.annotator, m, k
        )
        given = np.bincount(key, weights=weight[rows], minlength=m * k).reshape(m, k)
        marked = marked * weight[rows]
    hits = np.bincount(key, weights=marked, minlength=m * k).reshape(m, k)  # sum T y
    each = np.ones(len(votes.annotator)) if weight is None else weight
    seen = np.bincount(votes.annotator, weights=each, minlength=m)[:, None]
    missed = np.maximum(positives - hits, 0.0)
    false = np.maximum(given - hits, 0.0)
    negatives = np.maximum(seen - positives, 0.0)
    events = (CLASS_EVENTS, HABIT_EVENTS, CELL_EVENTS)
    miss0, fp0 = (None, None) if default is None else default
    se = 1.0 - _hierarchical(missed, positives, events, miss0)
    fp = _hierarchical(false, negatives, events, fp0)
    se = np.clip(se, EPS, 1 - EPS)
    fp = np.clip(fp, EPS, 1 - EPS)
    return np.maximum(se, fp), fp


@dataclass(frozen=True)
class ConfusionCounts:
    """What :func:`confusion_rates` estimates from, under a posterior ``T``: expected counts
    and the priors they are shrunk toward (:mod:`.held_out` takes one task out of them)."""

    counts: np.ndarray  # (M, K, K) sum of T over j's answers [j, true c, given l]
    accuracy_prior: np.ndarray  # (M, K) prior mean of j's error rate on class c
    spread: np.ndarray  # (K, K) where class c's errors go, everybody pooled; zero diagonal
    strength: float  # pseudo-answers of the spread in each annotator's own spread

    def confusion(self) -> np.ndarray:
        """``(M, K, K)`` confusion matrices, rows summing to 1 (module docstring)."""
        k = self.counts.shape[1]
        total = self.counts.sum(axis=2)  # (M, K) answers of j on tasks of true class c
        errors = np.maximum(total - np.einsum("jcc->jc", self.counts), 0.0)
        accuracy = 1.0 - shrink_rate(errors, total, self.accuracy_prior, CONFUSION_EVENTS)
        own = self.counts.copy()  # the annotator's own errors, shrunk toward the spread
        own[:, np.arange(k), np.arange(k)] = 0.0
        own_total = own.sum(axis=2, keepdims=True)
        share = (own + self.strength * self.spread[None]) / (own_total + self.strength)
        out = share * (1.0 - accuracy)[:, :, None]
        out[:, np.arange(k), np.arange(k)] = accuracy
        return np.clip(out, EPS, 1.0)


def _weighted(votes: Votes, posterior: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """``(A, K)`` each vote's posterior row, times its ``weight`` when given."""
    rows = posterior[votes.task]
    return rows if weight is None else rows * weight[:, None]


def confusion_counts(
    votes: Votes,
    posterior: np.ndarray,
    default: np.ndarray | None = None,
    weight: np.ndarray | None = None,
) -> ConfusionCounts:
    """The expected counts and priors of :func:`confusion_rates`; ``default`` ``(K,)``, the
    error rate per true class that the rate over all classes is shrunk toward; ``weight``
    ``(A,)``, what each vote counts for (:mod:`.dependence`; else 1 each)."""
    m, k = votes.n_annotators, posterior.shape[1]
    y = votes.class_index()
    counts = key_sums(_weighted(votes, posterior, weight), votes.annotator * k + y, m * k)
    counts = counts.reshape(m, k, k).transpose(0, 2, 1)  # [j, true c, given l]
    total = counts.sum(axis=2)
    errors = np.maximum(total - np.einsum("jcc->jc", counts), 0.0)
    prior = _cell_prior(errors, total, (CONFUSION_EVENTS,) * 3, default)
    wrong = counts.sum(axis=0)
    np.fill_diagonal(wrong, 0.0)
    alpha = max(spread_concentration(wrong), CONFUSION_EVENTS * max(k - 1, 1))
    spread = (wrong + alpha / max(k - 1, 1)) / (wrong.sum(axis=1, keepdims=True) + alpha)
    np.fill_diagonal(spread, 0.0)
    return ConfusionCounts(counts, prior, spread, CONFUSION_EVENTS * max(k - 1, 1))


def confusion_rates(
    votes: Votes,
    posterior: np.ndarray,
    default: np.ndarray | None = None,
    weight: np.ndarray | None = None,
) -> np.ndarray:
    """``(M, K, K)`` confusion matrices ``[j, true c, given l]`` under the posterior ``T``
    ``(U, K)`` of single-label votes (module docstring); rows sum to 1. ``default`` and
    ``weight`` as in :func:`confusion_counts`."""
    return confusion_counts(votes, posterior, default, weight).confusion()


def spread_concentration(wrong: np.ndarray) -> float:
    """The concentration ``alpha`` of a Dirichlet around the even spread that the ``(K, K)``
    error counts ``wrong[c, l]`` (true ``c``, given ``l``, zero diagonal) show, by moments:
    Pearson's statistic of the rows against the even spread is ``(K - 2) (n_c + alpha) /
    (1 + alpha)`` per row of ``n_c`` errors; :data:`EVEN` when the rows scatter no more than
    that with ``alpha`` infinite, 0 when they gather as much as they can."""
    k = wrong.shape[0]
    n = wrong.sum(axis=1)
    live = n >= 2
    if k < 3 or not live.any():
        return EVEN
    expected = n[live, None] / (k - 1)
    off = ~np.eye(k, dtype=bool)[live]
    pearson = float((((wrong[live] - expected) ** 2 / expected)[off]).sum())
    floor, ceiling = (k - 2) * float(live.sum()), (k - 2) * float(n[live].sum())
    if pearson <= floor:
        return EVEN
    if pearson >= ceiling:
        return 0.0
    return min((ceiling - pearson) / (pearson - floor), EVEN)


def dirichlet_confusion(
    votes: Votes,
    posterior: np.ndarray,
    default: np.ndarray | None = None,
    weight: np.ndarray | None = None,
) -> np.ndarray:
    """``(M, K, K)`` confusion matrices ``[j, true c, given l]`` under the posterior ``T``,
    each row's expected counts plus half an answer in every cell (Dawid-Skene's common form),
    or, given ``default`` ``(K, K)``, as many answers spread as its rows are; each vote
    counted ``weight`` ``(A,)`` times when given."""
    m, k = votes.n_annotators, posterior.shape[1]
    y = votes.class_index()
    counts = key_sums(_weighted(votes, posterior, weight), votes.annotator * k + y, m * k)
    smoothing = 0.5 if default is None else 0.5 * k * default
    counts = counts.reshape(m, k, k).transpose(0, 2, 1) + smoothing  # [j, true c, given l]
    return counts / counts.sum(axis=2, keepdims=True)
