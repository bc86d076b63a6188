"""Pairs of annotators whose votes agree more than their rates predict: one vote, not two.

Private helper of :mod:`ls_cleanlab.annotators`; assumes valid input (``U`` annotated tasks,
``M`` annotators, ``K`` classes, ``A`` annotations, see :class:`.votes.Votes`).

The consensus of :mod:`.calibrated` takes the annotators as independent given the truth, so a
worker who copies another (or two who sit together and agree on an answer) counts twice on the
tasks they share and outvotes the others. The fitted model says how often two annotators
*should* agree under that independence: on a task ``i`` they share, with ``T`` the fit's prior
(the model or the prevalence, without any annotator's evidence, so neither the pair nor other
copies of the same worker predict it),

* multi-label, per class ``k``: ``P_ik = T_ik (se_a se_b + (1 - se_a)(1 - se_b))
  + (1 - T_ik) (fp_a fp_b + (1 - fp_a)(1 - fp_b))`` (rates of class ``k``);
* single-label: ``P_i = sum_t T_it sum_l C_a[t, l] C_b[t, l]``.

Summed over the cells they share (``O`` the observed agreements), the pair's excess agreement
``kappa_ab = sum (O - P) / sum (1 - P)`` is Cohen's kappa with chance replaced by the model's
prediction: a worker who copies ``b``'s answer with probability ``c`` and otherwise answers on
its own agrees with probability ``c + (1 - c) P``, so ``kappa = c``, the share of its votes that
repeat ``b``'s. What every pair shares is not a copy: a common factor (items hard for
everyone, annotators whose accuracy follows them; CrowdTruth's prolific workers agree beyond
their average rates on the same items) gives a pair about ``u_a u_b``, the loadings estimated
as ``u_a = m_a / sqrt(c)`` with ``m_a`` the median ``kappa`` of ``a`` over its partners (one
value per partner: a copy is one of them) and ``c`` the crowd's median (weighted by
``sum (1 - P)``); that part is :mod:`.tempering`'s and is taken off first. A loading is a
correlation with the factor, at most 1: beyond it (a Heywood case of factor analysis) most of
``a``'s partners agree with it beyond any common factor, as where a worker is copied by most
of the others it meets, and its loading is taken as the crowd's median ``sqrt(c)`` (read as
its own, ``m_a m_b / c`` reached 2-3 in a pool of 14 with 7 copiers of one worker and hid
them). The rest is counted only beyond its
noise: under independence ``sum (O - P)`` has mean 0 and variance ``sum P (1 - P)``, and
``rho_ab = max(0, sum (O - P) - 1/2 - z sqrt(V)) / sum (1 - P)`` is a lower confidence bound
(the 1/2 a continuity correction: these are counts) with ``z = max(2, sqrt(2 ln N))`` for ``N``
pairs (the universal threshold: with independent annotators no pair passes, whatever the
number of pairs, and nothing changes). ``V`` is the larger of the cells' ``sum P (1 - P)`` and
the sum over the shared tasks of each task's ``(sum (O - P))^2`` (the cluster-robust variance,
a task the unit): a task's cells are one label set, not independent draws, so pairs sharing few
tasks stay at 0 however many classes each task has (two shared tasks of 55 classes, a spammer
and a worker with 21 answers, had passed at ``rho`` 0.34 and their refit moved the whole fit).

A vote then weighs ``w_a = 1 / (1 + sum_b rho_ab)`` over the other annotators ``b`` of its
task: the design effect ``1 / (1 + (n - 1) rho)`` of :mod:`.tempering` with a correlation per
pair. A worker and its exact copy weigh 1/2 each, one vote together, while the independent
annotators of the task keep their full weight. Multi-label, the consensus is refitted by EM
with the weights and the pairs measured again under its rates (:data:`ROUNDS`; the copies
inflate the rates they are measured with, the refit frees them). The weights enter both
steps of that EM: the E-step sums weighted log-likelihoods and the M-step
(:func:`.rates.binary_rates`) counts each vote as much, so EM ascends one objective, the
weighted (composite) log-likelihood ``sum_i log sum_z prior(z) prod_j P(y_ij | z)^w_ij``, and
the held-out votes that choose the model's share and ``rho`` (:mod:`.tempering`) count by their
weights too: counted once each, a copied vote was foretold by its source in the rest and the
copies lowered the model's share (a strong model, 0.74 -> 0.66, 150 lone tasks' cells wrong).
A refit whose EM still has not converged within its rounds is dropped with its weights, as
the first fit stops where its posteriors move less than ``tol``, near the vote it starts from.
That is not the weights' doing: on a sparse regime without a model (119 classes, 45% of the
tasks answered once, a 90% copier of the busiest worker found at ``rho`` 0.62 on their 75
shared tasks) the unweighted EM without the copier, let run, slides the same way (every
sensitivity from 0.45-0.88 to about 0.2, 24 classes called present on most tasks). With at
most two answers on most shared tasks a class's rates are not identified (three parameters,
two degrees of freedom), only held by the pooled shrinkage of :mod:`.rates`, and the lone
answers feed the prevalence (``marks / se``) but not the rates; the copier's agreeing answers
had held the fit, and at weight 0.62 they no longer do. The prevalence measured on the shared
tasks too stops that slide there but not the ridge (a generated crowd then drifts toward too
few labels, and the regime those rates were measured for fell from 0.919 to 0.833).
Single-label the same: EM refitted with the weights in both steps (the confusion counts of
:mod:`.rates` and the one-coin fits of :mod:`.collapse` count each vote by its weight, under
the M-step the guard of :mod:`.collapse` chose), the pairs measured again, the same guard;
recomputing only the posterior at the unweighted confusion matrices left the copies' inflated
accuracy in them (``tests/annotators/test_dependence_single.py``). The weights multiply the task's
tempering weight, chosen after them. Assumptions: a worker copied on every task it does cannot
be told from two perfect annotators; agreement beyond the prediction that is specific to a
pair is read as dependence, so two annotators with the same habit the model does not capture
(the same class swap) count less too, which is what their votes are worth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

import numpy as np

from ls_cleanlab.annotators.blocks import row_blocks
from ls_cleanlab.annotators.estep import BinaryEvidence
from ls_cleanlab.annotators.votes import Votes


class _Fit(Protocol):
    @property
    def logit(self) -> np.ndarray: ...
    @property
    def se(self) -> np.ndarray: ...
    @property
    def fp(self) -> np.ndarray: ...


Fit = TypeVar("Fit", bound=_Fit)


class _MulticlassFit(Protocol):
    @property
    def confusion(self) -> np.ndarray: ...


__all__ = [
    "MAX_PAIRS",
    "ROUNDS",
    "Agreement",
    "binary_agreement",
    "binary_pairs",
    "multiclass_agreement",
    "multiclass_pairs",
    "vote_weights",
]

#: Pairs of annotations on a task measured at most (an even stride through them beyond this).
MAX_PAIRS = 2_000_000
#: Rounds of measuring the pairs and refitting the consensus with their weights.
ROUNDS = 2
#: Least ``z`` of the lower confidence bound (module docstring).
MIN_Z = 2.0

#: ``(left, right) -> (observed - predicted, 1 - predicted, predicted (1 - predicted))`` each
#: ``(P,)``, summed over the cells of the pairs of annotations ``left``, ``right`` ``(P,)``.
Agreement = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def _offsets(votes: Votes) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Rows ``(left, right)`` of the pairs of a task's annotations ``offset`` apart in its
    order (``left`` the lower annotator code), one offset at a time: all pairs, never all
    held at once."""
    count = votes.count[votes.task]
    for offset in range(1, int(votes.count.max(initial=1))):
        rows = np.flatnonzero(votes.rank + offset < count)
        yield rows, rows + offset


def _pairs(votes: Votes, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``(left, right)`` of every two annotations of a task, at most ``limit`` of them
    (an even stride through all)."""
    found = list(_offsets(votes))
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a = np.concatenate([left for left, _ in found])
    b = np.concatenate([right for _, right in found])
    if len(a) > limit:
        keep = slice(None, None, -(-len(a) // limit))
        a, b = a[keep], b[keep]
    return a, b


def _pair_rho(votes: Votes, agreement: Agreement, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys ``a * M + b`` of the pairs with ``rho_ab > 0`` and their ``rho``."""
    left, right = _pairs(votes, MAX_PAIRS)
    m = votes.n_annotators
    key = votes.annotator[left] * m + votes.annotator[right]
    keys, inverse = np.unique(key, return_inverse=True)
    sums = np.zeros((4, len(keys)))
    for block in row_blocks(len(left), width):
        parts = agreement(left[block], right[block])
        for row, part in zip(sums, (*parts, parts[0] ** 2), strict=True):
            row += np.bincount(inverse[block], weights=part, minlength=len(keys))
    excess, room, noise, tasks = sums
    excess = excess - _shared(keys, m, excess, room) * room  # not a copy (module docstring)
    z = max(MIN_Z, float(np.sqrt(2.0 * np.log(max(len(keys), 1)))))
    # a count of agreements: the continuity correction keeps a few shared cells from passing;
    # a task's cells are one label set, not independent: the variance is also taken per task
    bound = excess - 0.5 - z * np.sqrt(np.maximum(noise, tasks))
    rho = np.clip(np.divide(bound, room, out=np.zeros(len(keys)), where=bound > 0), 0.0, 1.0)
    dependent = rho > 0
    return keys[dependent], rho[dependent]


def _common(excess: np.ndarray, room: np.ndarray) -> float:
    """The crowd's common excess agreement: the median of the pairs' ``kappa`` weighted by
    their ``room`` (a minority of copying pairs does not move it), at least 0."""
    if not len(room) or room.sum() <= 0:
        return 0.0
    kappa = np.divide(excess, room, out=np.zeros(len(room)), where=room > 0)
    order = np.argsort(kappa, kind="stable")
    cumulative = np.cumsum(room[order])
    middle = order[np.searchsorted(cumulative, 0.5 * cumulative[-1])]
    return max(0.0, float(kappa[middle]))


def _medians(group: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    """``(n,)`` median of ``value`` in each ``group`` (the lower middle; 0 for an empty one)."""
    order = np.lexsort((value, group))
    group, value = group[order], value[order]
    count = np.bincount(group, minlength=n)
    first = np.concatenate(([0], np.cumsum(count)[:-1]))
    out = np.zeros(n)
    seen = count > 0
    out[seen] = value[first[seen] + (count[seen] - 1) // 2]
    return out


def _shared(keys: np.ndarray, m: int, excess: np.ndarray, room: np.ndarray) -> np.ndarray:
    """``(P,)`` the excess agreement each pair shares with the crowd, ``u_a u_b``: a common
    factor (items hard for everyone, annotators whose accuracy follows it) gives the pairs of
    ``a`` about ``u_a`` times the other's loading, so ``u_a = m_a / sqrt(c)`` with ``m`` each
    annotator's median ``kappa`` over its partners (one per partner: a copy is one of them and
    moves it little) and ``c`` the crowd's (weighted by the pairs' room), the median loading
    squared. A loading is a correlation with the factor, at most 1; beyond it (a Heywood case)
    the annotator's median partner agrees with it beyond any common factor, so most of its
    partners depend on it (a worker copied by most of the others it meets) and its loading is
    taken as the crowd's median, ``sqrt(c)``."""
    common = _common(excess, room)
    if common <= 0.0:
        return np.zeros(len(keys))
    kappa = np.divide(excess, room, out=np.zeros(len(room)), where=room > 0)
    a, b = keys // m, keys % m
    each = _medians(np.concatenate((a, b)), np.tile(kappa, 2), m)
    root = np.sqrt(common)
    loading = np.where(each > root, root, np.clip(each, 0.0, None) / root)
    return loading[a] * loading[b]


def vote_weights(votes: Votes, agreement: Agreement, width: int) -> np.ndarray | None:
    """``(A,)`` weight of each vote, ``1 / (1 + sum_b rho_ab)`` over the other annotators of
    its task (module docstring), the pairs measured by ``agreement`` a block of ``width``
    cells per pair at a time; None when no pair agrees beyond its rates (nothing changes)."""
    keys, rho = _pair_rho(votes, agreement, width)
    if not len(keys):
        return None
    m = votes.n_annotators
    shared = np.zeros(len(votes.task))
    for left, right in _offsets(votes):
        key = votes.annotator[left] * m + votes.annotator[right]
        at = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
        found = keys[at] == key
        value = np.where(found, rho[at], 0.0)
        shared += np.bincount(left, weights=value, minlength=len(shared))
        shared += np.bincount(right, weights=value, minlength=len(shared))
    return 1.0 / (1.0 + shared)


def binary_agreement(votes: Votes, prior: np.ndarray, se: np.ndarray, fp: np.ndarray) -> Agreement:
    """:data:`Agreement` of a multi-label fit: prior log-odds ``prior`` ``(U, K)`` (the
    posterior without the annotators' evidence), rates ``se``, ``fp`` ``(M, K)``."""

    def agreement(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, b = votes.annotator[left], votes.annotator[right]
        t = 0.5 * (1.0 + np.tanh(0.5 * prior[votes.task[left]]))
        both_se = se[a] * se[b] + (1 - se[a]) * (1 - se[b])
        both_fp = fp[a] * fp[b] + (1 - fp[a]) * (1 - fp[b])
        predicted = t * both_se + (1 - t) * both_fp
        observed = votes.labels[left] == votes.labels[right]
        return (
            (observed - predicted).sum(axis=1),
            (1 - predicted).sum(axis=1),
            (predicted * (1 - predicted)).sum(axis=1),
        )

    return agreement


def multiclass_agreement(votes: Votes, log_prior: np.ndarray, confusion: np.ndarray) -> Agreement:
    """:data:`Agreement` of a single-label fit: ``log_prior`` ``(U, K)`` (normalized),
    ``confusion`` ``(M, K, K)`` ``[j, true, given]``."""
    y = votes.class_index()

    def agreement(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, b = votes.annotator[left], votes.annotator[right]
        t = np.exp(log_prior[votes.task[left]])
        t /= t.sum(axis=1, keepdims=True)
        both = np.einsum("pkl,pkl->pk", confusion[a], confusion[b])
        predicted = (t * both).sum(axis=1)
        observed = (y[left] == y[right]).astype(np.float64)
        return observed - predicted, 1 - predicted, predicted * (1 - predicted)

    return agreement


def binary_pairs(
    votes: Votes, fit: Fit, refit: Callable[[np.ndarray, Fit], Fit | None]
) -> tuple[Fit, np.ndarray | None, np.ndarray]:
    """The votes' weights from the pairs that agree beyond their rates under the multi-label
    ``fit`` (:class:`.calibrated.BinaryFit`), measured and the consensus refitted with them
    (``refit(weights, fit)``, None when its EM does not converge) :data:`ROUNDS` times:
    each refit frees the rates from the copies found so far, so the next round sees more of
    them. Returns the last fit, the weights (None when no pair is dependent: ``fit``
    unchanged) and its weighted evidence ``(U, K)``."""
    weight = None
    evidence = BinaryEvidence(votes, fit.se, fit.fp).full()
    for _ in range(ROUNDS):
        prior = fit.logit - evidence  # the fit's log-odds less the annotators' evidence
        pairs = binary_agreement(votes, prior, fit.se, fit.fp)
        found = vote_weights(votes, pairs, votes.n_classes)
        if found is None:
            break
        again = refit(found, fit)
        if again is None:  # EM under these weights found no fixed point: keep the last fit
            break
        weight, fit = found, again
        evidence = BinaryEvidence(votes, fit.se, fit.fp, weight).full()
    return fit, weight, evidence


Rounds = TypeVar("Rounds", bound=tuple[_MulticlassFit, np.ndarray, np.ndarray])


def multiclass_pairs(
    votes: Votes, rounds: Rounds, refit: Callable[[np.ndarray, Rounds], Rounds | None]
) -> tuple[Rounds, np.ndarray | None]:
    """The votes' weights from the pairs that agree beyond their rates under the single-label
    fit ``rounds`` (:class:`.calibrated.MulticlassFit`, its prior ``(U, K)``, its evidence),
    measured and the consensus refitted with them as :func:`binary_pairs` does. Returns the
    last fit with its prior and weighted evidence, and the weights (None: nothing changed)."""
    weight = None
    for _ in range(ROUNDS):
        fit, prior, _ = rounds
        pairs = multiclass_agreement(votes, prior, fit.confusion)
        found = vote_weights(votes, pairs, fit.confusion.shape[1] ** 2)
        if found is None:
            break
        again = refit(found, rounds)
        if again is None:  # EM under these weights found no fixed point: keep the last fit
            break
        weight, rounds = found, again
    return rounds, weight
