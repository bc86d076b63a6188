"""How far the annotators' votes are independent evidence: a temperature for their sum.

Private helper of :mod:`ls_cleanlab.annotators`; assumes valid input. Dawid-Skene multiplies
the annotators' likelihoods as if their errors were independent given the truth. Real crowds
are not: some items are hard for everyone, so votes that split on an item say less than the
product claims, and the posterior is over-confident (on the single-label crowd sets the
calibration error of plain Dawid-Skene reached 0.17).

The annotators' log-likelihood ratios on a task with ``n`` answers are therefore summed with a
weight ``tau_n = 1 / (1 + (n - 1) rho)``: ``logit T = prior + tau_n * sum_j LLR_j``. This is the
design effect of correlated evidence: ``n`` votes with pairwise correlation ``rho`` carry what
``n / (1 + (n - 1) rho)`` independent ones would, so a lone answer keeps its full weight (nothing
on its task is counted twice) and the more answers a task has, the more each is discounted. One
``rho >= 0`` serves every task. It is chosen by how well the posterior from the *other*
annotations predicts each held-out annotation (leave-one-annotation-out predictive
log-likelihood, e.g. ``P(y_ajk = 1 | rest) = T'_ik se_jk + (1 - T'_ik) fp_jk``), the rest
weighted by ``tau_n`` of the held-out vote's task, the weight its votes get in the posterior: a
quantity the data measure without any truth. When votes split on hard items, or a worker copies
another, more often than independent annotators would, a posterior that is sure after a few
votes predicts the next vote badly and a larger ``rho`` predicts it better. On data whose
annotators are independent given the truth (the simulations) ``rho`` stays at 0. Where every
task has the same number of answers this is one temperature for all of them (the tempered or
"power" likelihood of composite likelihood inference, Varin, Reid & Firth 2011, Statistica
Sinica 21, with the weight picked by predictive fit rather than by asymptotics); where the
number varies, one temperature fitted on the shared tasks would also damp the tasks answered
once and let the prior overrule their only annotator. The search runs over
``tau_2 = 1 / (1 + rho)`` in ``[LOW, 1]``, which holds every temperature in ``[LOW, 1]`` at any
number of answers. (Weighting the rest as ``n - 1`` answers instead leaves ``rho`` unmeasured by
tasks with two answers, and on a random regime where 2 of 613 tasks hold three answers a noisy
``rho`` from those 2 refitted the model into 1.8x as many wrong tasks.)

The model's weight ``omega`` (its calibrated log-odds beyond the prevalence, :mod:`.calibrated`)
is chosen first, at ``rho = 0``, by the same predictive likelihood. Multi-label, an answer on a
task answered once is held out too: the model alone predicts it, ``P(y = 1 | model) =
T se + (1 - T) fp`` with ``T = sigmoid(base + omega (model - base))``. Where most tasks have one
answer these are most of what the data say about the model; the shared tasks alone, a handful,
had weighed a good model down (random regime 2/10, 35 shared tasks of 855: ``omega`` 0.73,
cell accuracy 0.80 against Dawid-Skene's 0.84; with the lone answers 0.99 and 0.88). It
assumes the lone answers are labelled as the shared ones are. A lone answer's term does not
depend on ``rho`` (its task's weight is 1). Single-label keeps the shared tasks only: there
the lone answers chose ``omega`` 0.97 where the shared ones chose 0.46 against an
over-confident model and 17 copiers of 53 workers, and the consensus lost 1.9 points of
accuracy (random regime 0/24).

The held-out votes can only see how the annotators agree with each other. Where a whole crowd
shares a mistake (some items are read the same wrong way by most workers) no temperature chosen
from the votes foresees it. Known truth does: with gold tasks (:mod:`.gold`) holding at least
:data:`MIN_GOLD_CELLS` cells, on some of which the consensus is right and on some wrong,
``(omega, rho)`` are chosen instead by the log-likelihood of the gold labels under the posterior
of those tasks' annotations and model (:func:`gold_binary_weights`,
:func:`gold_multiclass_weights`), so the cell scores mean what they say on that project.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from ls_cleanlab.annotators.votes import Votes

__all__ = [
    "MAX_ROWS",
    "MIN_GOLD_CELLS",
    "Rows",
    "binary_weights",
    "gold_binary_weights",
    "gold_multiclass_weights",
    "golden_max",
    "mean_weight",
    "multiclass_weights",
    "score_dependence",
    "task_weights",
]


class Rows(Protocol):
    """Rows of a ``(U, K)`` array by an index or a mask: the array, or an object that makes
    only the rows asked for (the calibrated EM's model, so the whole array is never held)."""

    def __getitem__(self, index: np.ndarray, /) -> np.ndarray: ...


#: Annotations used to choose the temperature (an even stride through them beyond this).
MAX_ROWS = 10_000
LOW = 0.05
#: Gold cells (gold tasks x classes) needed before the weights are fitted to gold.
MIN_GOLD_CELLS = 30
_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def golden_max(f: Callable[[float], float], low: float, high: float, steps: int = 18) -> float:
    """The maximizer of a unimodal ``f`` on ``[low, high]`` by golden-section search; ``high``
    itself when no interior point does better."""
    a, b = low, high
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(steps):
        if fc >= fd:
            b, d, fd = d, c, fc
            c = b - _GOLDEN * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + _GOLDEN * (b - a)
            fd = f(d)
    return high if f(high) >= max(fc, fd) else (a + b) / 2


def task_weights(count: np.ndarray, rho: float) -> np.ndarray:
    """``(U,)`` weight of each answer on a task with ``count`` answers: ``1 / (1 + (n - 1) rho)``
    (module docstring)."""
    return 1.0 / (1.0 + (np.asarray(count, dtype=np.float64) - 1.0) * rho)


def mean_weight(count: np.ndarray, rho: float) -> float:
    """The weight of an answer averaged over the answers (``count`` ``(U,)`` per task): the
    one temperature of a crowd whose tasks all have the same number of answers."""
    total = float(np.sum(count))
    if rho <= 0.0 or total == 0.0:
        return 1.0
    return float(np.dot(task_weights(count, rho), count)) / total


def _rows(votes: Votes, lone: bool = False) -> np.ndarray:
    """Annotations on shared tasks (held-out votes need another source), at most MAX_ROWS;
    with ``lone`` also those answered alone, at most MAX_ROWS more (the model is their other
    source: :func:`binary_weights`)."""
    single = votes.count[votes.task] == 1
    rows = _stride(np.flatnonzero(~single))
    return np.concatenate([rows, _stride(np.flatnonzero(single))]) if lone else rows


def _stride(rows: np.ndarray) -> np.ndarray:
    """``rows``, or an even stride through them of at most MAX_ROWS."""
    return rows[:: -(-len(rows) // MAX_ROWS)] if len(rows) > MAX_ROWS else rows


def _ascend(loglik: Callable[[float, float], float], has_model: bool) -> tuple[float, float]:
    """``omega`` in ``[0, 1]`` at ``rho = 0``, then ``rho`` at that ``omega``, searched as
    ``tau_2 = 1 / (1 + rho)`` in ``[LOW, 1]`` (one round of coordinate ascent: a second moved
    neither by more than 0.02 on the benchmark's sets)."""
    omega = golden_max(lambda w: loglik(w, 0.0), 0.0, 1.0) if has_model else 1.0
    pair = golden_max(lambda t: loglik(omega, 1.0 / t - 1.0), LOW, 1.0)
    return omega, 1.0 / pair - 1.0


def binary_weights(
    votes: Votes,
    base: np.ndarray,
    model: Rows | None,
    evidence: np.ndarray,
    se: np.ndarray,
    fp: np.ndarray,
    weight: np.ndarray | None = None,
) -> tuple[float, float]:
    """``(omega, rho)`` for multi-label votes: the posterior log-odds are
    ``base + omega (model - base) + tau_n * evidence`` with ``base`` ``(K,)`` the prevalence,
    ``model`` ``(U, K)`` the calibrated model (None without one), ``evidence`` ``(U, K)`` the
    annotators' summed log-likelihood ratios, each vote weighted by ``weight`` ``(A,)`` when
    given (:mod:`.dependence`), in the evidence and as a held-out vote (the weighted likelihood
    the posterior is), ``se``, ``fp`` ``(M, K)`` their rates. With a model the answers on tasks
    answered once are held out too (module docstring)."""
    rows = _rows(votes, model is not None)
    if len(rows) == 0:
        return 1.0, 0.0
    j, i = votes.annotator[rows], votes.task[rows]
    y = votes.labels[rows]
    present = np.log(se) - np.log(fp)
    absent = np.log1p(-se) - np.log1p(-fp)
    own = np.where(y, present[j], absent[j])
    rest = evidence[i] - (own if weight is None else weight[rows, None] * own)
    shift = np.zeros_like(rest) if model is None else model[i] - base
    p_yes, p_no = np.where(y, se[j], 1 - se[j]), np.where(y, fp[j], 1 - fp[j])
    answers = votes.count[i]  # the held-out vote's task: its rest weighs as in its posterior
    counts = 1.0 if weight is None else weight[rows, None]

    def loglik(omega: float, rho: float) -> float:
        tau = task_weights(answers, rho)[:, None]
        t = 0.5 * (1.0 + np.tanh(0.5 * (base + omega * shift + tau * rest)))
        return float((counts * np.log(t * p_yes + (1 - t) * p_no)).sum())

    return _ascend(loglik, model is not None)


def multiclass_weights(
    votes: Votes,
    base: np.ndarray,
    model: np.ndarray | None,
    evidence: np.ndarray,
    confusion: np.ndarray,
    weight: np.ndarray | None = None,
) -> tuple[float, float]:
    """``(omega, rho)`` for single-label votes: the posterior is
    ``softmax(tau_n * (base + omega (model - base) + evidence))``, ``base`` ``(K,)`` the log
    class prior, ``model`` ``(U, K)`` the calibrated model's log-probabilities, ``evidence``
    ``(U, K)`` the annotators' summed log-likelihoods (weighted as in :func:`binary_weights`),
    ``confusion`` ``(M, K, K)``. Here the
    temperature scales the whole posterior, so the consensus (its argmax) is Dawid-Skene's."""
    rows = _rows(votes)
    if len(rows) == 0:
        return 1.0, 0.0
    j, i = votes.annotator[rows], votes.task[rows]
    y = votes.class_index()[rows]
    own = np.log(confusion)[j, :, y]
    rest = evidence[i] - (own if weight is None else weight[rows, None] * own)
    shift = np.zeros_like(rest) if model is None else model[i] - base
    counts = None if weight is None else weight[rows]
    return _ascend(
        _predictive(base, shift, rest, confusion[j, :, y], votes.count[i], counts),
        model is not None,
    )


def _predictive(
    base: np.ndarray,
    shift: np.ndarray,
    rest: np.ndarray,
    likely: np.ndarray,
    answers: np.ndarray,
    counts: np.ndarray | None = None,
) -> Callable[[float, float], float]:
    """Log-likelihood of the held-out single-label votes, ``likely`` ``(R, K)`` each one's
    probability given each class, ``rest`` the others' evidence, ``answers`` ``(R,)`` the
    number of answers on each one's task, each vote's term counted ``counts`` ``(R,)`` times
    (its weight, :mod:`.dependence`; else once), as a function of ``(omega, rho)``."""

    def loglik(omega: float, rho: float) -> float:
        z = task_weights(answers, rho)[:, None] * (base + omega * shift + rest)
        z = z - z.max(axis=1, keepdims=True)
        t = np.exp(z)
        t /= t.sum(axis=1, keepdims=True)
        each = np.log((t * likely).sum(axis=1))
        return float(each.sum() if counts is None else (counts * each).sum())

    return loglik


def score_dependence(
    votes: Votes,
    base: np.ndarray,
    shift: np.ndarray | float,
    held: np.ndarray,
    entries: Callable[[np.ndarray], np.ndarray],
) -> float:
    """``rho`` for single-label scores chosen as :func:`multiclass_weights` chooses it at the
    fit's model weight (``shift`` ``(U, K)`` its part of the prior, or 0), with each held-out
    vote's task also out of the confusion rows: ``held`` ``(U, K)`` the evidence and
    ``entries(rows)`` ``(R, K)`` the log-likelihoods of the annotations ``rows`` so computed
    (:mod:`.held_out`)."""
    rows = _rows(votes)
    if len(rows) == 0:
        return 0.0
    i, own = votes.task[rows], entries(rows)
    offset = np.broadcast_to(shift, held.shape)[i]
    loglik = _predictive(base, offset, held[i] - own, np.exp(own), votes.count[i])
    pair = golden_max(lambda t: loglik(1.0, 1.0 / t - 1.0), LOW, 1.0)
    return 1.0 / pair - 1.0


def _both_outcomes(right: np.ndarray) -> bool:
    """Enough gold cells, the consensus right on some and wrong on others: without a wrong
    one gold cannot say how far to trust a confident posterior."""
    return right.size >= MIN_GOLD_CELLS and bool(right.any()) and not bool(right.all())


def gold_binary_weights(
    base: np.ndarray,
    model: Rows | None,
    evidence: np.ndarray,
    units: np.ndarray,
    truth: np.ndarray,
    count: np.ndarray,
) -> tuple[float, float] | None:
    """``(omega, rho)`` of :func:`binary_weights` chosen by the log-likelihood of the gold
    labels ``truth`` ``(G, K)`` of the tasks ``units`` ``(U,)`` bool, ``count`` ``(U,)`` the
    answers per task; None when gold cannot measure them (:data:`MIN_GOLD_CELLS`, both
    outcomes)."""
    present = truth > 0
    rest = evidence[units]
    answers = count[units]
    shift = np.zeros_like(rest) if model is None else model[units] - base
    if not _both_outcomes((base + shift + rest > 0) == present):
        return None
    sign = np.where(present, -1.0, 1.0)

    def loglik(omega: float, rho: float) -> float:
        tau = task_weights(answers, rho)[:, None]
        return -float(np.logaddexp(0.0, sign * (base + omega * shift + tau * rest)).sum())

    return _ascend(loglik, model is not None)


def gold_multiclass_weights(
    base: np.ndarray,
    model: np.ndarray | None,
    evidence: np.ndarray,
    units: np.ndarray,
    truth: np.ndarray,
    count: np.ndarray,
) -> tuple[float, float] | None:
    """``(omega, rho)`` of :func:`multiclass_weights` chosen by the log-likelihood of the gold
    classes (``truth`` ``(G, K)`` one-hot) of the tasks ``units``; None as in
    :func:`gold_binary_weights` (a task's cells are right or wrong together)."""
    y = truth.argmax(axis=1)
    rest = evidence[units]
    shift = np.zeros_like(rest) if model is None else model[units] - base
    right = (base + shift + rest).argmax(axis=1) == y
    if not _both_outcomes(np.repeat(right, truth.shape[1])):
        return None
    rows = np.arange(len(y))
    answers = count[units]

    def loglik(omega: float, rho: float) -> float:
        z = task_weights(answers, rho)[:, None] * (base + omega * shift + rest)
        z = z - z.max(axis=1, keepdims=True)
        return float((z[rows, y] - np.log(np.exp(z).sum(axis=1))).sum())

    return _ascend(loglik, model is not None)
