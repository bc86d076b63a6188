"""The calibrated consensus: Dawid-Skene with one-sided annotators and the model as a source.

Private helper of :mod:`ls_cleanlab.annotators`; assumes valid input (``U`` annotated tasks,
``M`` annotators, ``K`` classes, see :class:`.votes.Votes`).

Multi-label, per class ``k`` (Dawid & Skene 1979; Raykar et al. 2010 for the model): the truth
``z_ik`` has the prior ``sigmoid(a_k + b_k logit p_ik)`` (the calibrated model,
:mod:`.model_source`; without a model, or one that fails its test, the prevalence ``pi_k``), and
annotators vote independently given it with sensitivity ``se_jk`` and false-positive rate
``fp_jk`` (:mod:`.rates`). Evidence adds in log-odds:

``logit T_ik = a_k + b_k x_ik + sum_j [y_ijk log(se_jk / fp_jk)
+ (1 - y_ijk) log((1 - se_jk) / (1 - fp_jk))]``.

EM alternates this E-step with the M-steps of :mod:`.rates` and :mod:`.model_source`, from the
vote shares, until the posteriors move less than ``tol`` on average. The model is one source
among the annotators: two agreeing annotators outweigh it unless it has proved more reliable
than they are, and a weak or biased model gets a small slope. The consensus is ``T > 1/2``.
Annotators who agree with each other beyond what their rates predict (a copier and its
source) are not independent: their votes are weighted so that such a pair counts about once
and the fit is redone (:mod:`.dependence`).

Single-label: ``log T_ic = log prior_c + sum_j log C_j[c, y_ij]`` with confusion matrices
``C_j`` (:func:`.rates.dirichlet_confusion` with few classes, else
:func:`.rates.confusion_rates`) and the prior ``softmax(a_c + b log p_ic)``. Without a model,
where a class the vote gives many tasks ends with none, the fit is redone with one-coin
annotators (:mod:`.collapse`). Many classes, no gold: the scores' level from :mod:`.held_out`.
Without a model, the multi-label rates and the many-class confusion matrices are measured on
the tasks with two or more answers and the gold (:mod:`.measured`).

Annotator quality from the fit: :mod:`.quality`.

Gold (:class:`~.gold.Known`) is known truth: its tasks' posterior is the gold label in every
round, and the first rates of annotators with a few gold tasks are estimated on them alone (as
in :mod:`.dawid_skene`). With enough gold (:data:`.tempering.MIN_GOLD_CELLS` cells, the
consensus wrong on some), the model's weight and the temperature are fitted to the gold labels
rather than to the held-out votes (:mod:`.tempering`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ls_cleanlab.annotators import collapse, dependence, held_out, model_source, tempering
from ls_cleanlab.annotators.estep import (
    BinaryEvidence,
    BinaryPrior,
    TaskRows,
    binary_e_step,
    sigmoid,
)
from ls_cleanlab.annotators.jaccard import expected_jaccard
from ls_cleanlab.annotators.measured import MeasuredVotes
from ls_cleanlab.annotators.rates import (
    FEW_CLASSES,
    binary_rates,
    confusion_rates,
    dirichlet_confusion,
)
from ls_cleanlab.annotators.votes import Votes

if TYPE_CHECKING:
    from ls_cleanlab.annotators.gold import Known

__all__ = [
    "BinaryFit",
    "MulticlassFit",
    "binary_em",
    "binary_evidence",
    "expected_jaccard",
    "multiclass_em",
]

EPS = 1e-6


@dataclass(frozen=True)
class BinaryFit:
    """A fitted multi-label model over the ``U`` annotated tasks."""

    logit: np.ndarray  # (U, K) posterior log-odds
    se: np.ndarray  # (M, K)
    fp: np.ndarray  # (M, K)
    calibration: model_source.BinaryCalibration | None
    n_iter: int
    temperature: float = 1.0  # mean weight of an answer (:mod:`.tempering`)
    model_share: float = 1.0  # weight of the calibrated model beyond the prevalence
    dependence: float = 0.0  # rho: an answer on a task of n weighs 1 / (1 + (n - 1) rho)
    vote_weight: np.ndarray | None = None  # (A,) beside it, per pair (:mod:`.dependence`)

    @property
    def posterior(self) -> np.ndarray:
        return sigmoid(self.logit)


def binary_evidence(votes: Votes, se: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """``(U, K)`` sum of the annotators' log-likelihood ratios on each task."""
    return BinaryEvidence(votes, se, fp).full()


def _binary_prior(
    posterior: np.ndarray,
    x: np.ndarray | None,
    previous: model_source.BinaryCalibration | None,
    omega: float,
) -> tuple[BinaryPrior, model_source.BinaryCalibration | None]:
    """The prior: the calibrated model (its share weighted by ``omega``), else the prevalence;
    and the calibration (also when the model failed its test: it starts the next fit)."""
    if x is not None:
        calibration = model_source.binary_calibration(x, posterior, previous)
        if calibration.used:
            base = _prevalence_logit(posterior) if omega < 1.0 else np.zeros(0)
            return BinaryPrior(base, calibration, omega), calibration
        return BinaryPrior(_prevalence_logit(posterior)), calibration
    return BinaryPrior(_prevalence_logit(posterior)), None


def _binary_rounds(
    votes: Votes,
    posterior: np.ndarray,
    x: np.ndarray | None,
    rounds: int,
    tol: float,
    rho: float,
    omega: float = 1.0,
    known: Known | None = None,
    anchor: bool = False,
    logit: np.ndarray | None = None,
    weight: np.ndarray | None = None,
) -> BinaryFit:
    """EM rounds from ``posterior``, which they update in place (the caller's own array), as
    ``logit`` (allocated when None). The prior is the prevalence plus ``omega`` times what the
    calibrated model adds to it; the annotators' evidence on a task is weighted as ``rho`` says
    for its number of answers (:func:`.tempering.task_weights`). Gold tasks are clamped to
    ``known``; with ``anchor`` the first rates come from them alone. The E-step runs a block of
    tasks at a time (:mod:`.estep`)."""
    logit = np.zeros_like(posterior) if logit is None else logit
    se = fp = np.zeros((votes.n_annotators, posterior.shape[1]))
    calibration = None
    tau = tempering.task_weights(votes.count, rho) if rho > 0.0 else 1.0
    measured = MeasuredVotes(votes, known, x is not None)
    it = 0
    for _ in range(rounds):
        it += 1
        se, fp = measured.binary_rates(posterior, weight)
        if anchor and known is not None and it == 1:
            gold_se, gold_fp = binary_rates(known.votes, known.truth)
            se, fp = known.anchor(se, gold_se), known.anchor(fp, gold_fp)
        prior, calibration = _binary_prior(posterior, x, calibration, omega)
        evidence = BinaryEvidence(votes, se, fp, weight)
        change = binary_e_step(prior, evidence, x, tau, known, posterior, logit)
        if change < tol:
            break
    used = calibration if calibration is not None and calibration.used else None
    weight_n = tempering.mean_weight(votes.count, rho)
    return BinaryFit(logit, se, fp, used, it, weight_n, dependence=rho, vote_weight=weight)


def _prevalence_logit(posterior: np.ndarray) -> np.ndarray:
    mean = np.clip(posterior.mean(axis=0), EPS, 1 - EPS)
    return np.log(mean) - np.log1p(-mean)


def binary_em(
    votes: Votes,
    start: np.ndarray,
    probs: np.ndarray | None,
    max_iter: int,
    tol: float,
    known: Known | None = None,
) -> BinaryFit:
    """Fit the multi-label model by EM from the soft labels ``start`` ``(U, K)``, gold tasks
    clamped to ``known``; then weigh the model and the annotators' evidence as the held-out
    votes (or, with enough of it, the gold) call for (:mod:`.tempering`). A float ``start``
    becomes the posterior, updated in place (no copy of a ``(U, K)`` array)."""
    x = None if probs is None else model_source.model_logits(probs)
    posterior = known.clamp(start) if known is not None else np.asarray(start, dtype=np.float64)
    fit = _binary_rounds(votes, posterior, x, max_iter, tol, 0.0, 1.0, known, True)

    def refit(weight: np.ndarray, before: BinaryFit) -> BinaryFit | None:
        saved = posterior.copy()
        again = _binary_rounds(votes, posterior, x, max_iter, tol, 0.0, 1.0, known, weight=weight)
        if again.n_iter >= max_iter:  # no fixed point near the fit: it stands (:mod:`.dependence`)
            posterior[:] = saved
            return None
        return replace(again, n_iter=before.n_iter + again.n_iter)

    fit, weight, evidence = dependence.binary_pairs(votes, fit, refit)
    base = _prevalence_logit(posterior)
    calibration = fit.calibration
    model = None
    if calibration is not None and x is not None:
        model = TaskRows(lambda tasks: calibration.logits(x[tasks]))
    gold = known and tempering.gold_binary_weights(
        base, model, evidence, known.units, known.truth, votes.count
    )
    omega, rho = gold or tempering.binary_weights(
        votes, base, model, evidence, fit.se, fit.fp, weight
    )
    del evidence
    if omega >= 1.0 and rho <= 0.0 and weight is None:
        return fit
    n_iter, logit = fit.n_iter, fit.logit
    del fit  # its log-odds are the next rounds' buffer
    again = _binary_rounds(
        votes, posterior, x, max_iter, tol, rho, omega, known, logit=logit, weight=weight
    )
    return replace(again, n_iter=n_iter + again.n_iter, model_share=omega)


# -- single-label -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MulticlassFit:
    """A fitted single-label model over the ``U`` annotated tasks."""

    log_posterior: np.ndarray  # (U, K), normalized
    confusion: np.ndarray  # (M, K, K) [j, true, given]
    calibration: model_source.MulticlassCalibration | None
    n_iter: int
    temperature: float = 1.0
    model_share: float = 1.0
    dependence: float = 0.0
    scores: np.ndarray | None = None  # (U, K) log posterior of the scores (:mod:`.held_out`)
    every: bool = False  # rates measured without the lone answers: quality over every task

    @property
    def posterior(self) -> np.ndarray:
        return np.exp(self.log_posterior)

    @property
    def score_posterior(self) -> np.ndarray:
        """``(U, K)`` the posterior the cell scores come from; its argmax may differ."""
        return self.posterior if self.scores is None else np.exp(self.scores)


def _normalize(logp: np.ndarray) -> np.ndarray:
    logp = logp - logp.max(axis=1, keepdims=True)
    return logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))


def _multiclass_prior(
    posterior: np.ndarray, log_probs: np.ndarray | None
) -> tuple[np.ndarray, model_source.MulticlassCalibration | None]:
    if log_probs is not None:
        calibration = model_source.multiclass_calibration(log_probs, posterior)
        if calibration.used:
            return calibration.log_prior(log_probs), calibration
    return np.log(np.clip(posterior.mean(axis=0), EPS, None)), None


def _multiclass_rounds(
    votes: Votes,
    posterior: np.ndarray,
    log_probs: np.ndarray | None,
    rounds: int,
    tol: float,
    tau: float,
    known: Known | None = None,
    rates: collapse.Rates | None = None,
    fixed: np.ndarray | None = None,
    weight: np.ndarray | None = None,
) -> tuple[MulticlassFit, np.ndarray, np.ndarray]:
    """EM rounds from ``posterior``; returns the fit, its prior and its evidence. Gold tasks
    are clamped to ``known``, and the first confusion matrices come from them alone (not in a
    refit with ``weight``, which starts from a fit). ``rates`` replaces the M-step of the
    confusion matrices, ``fixed`` the class prior (no model). ``weight`` ``(A,)`` weighs each
    vote in both steps, the M-step counting it as much (:mod:`.dependence`)."""
    k = posterior.shape[1]
    log_post = prior = evidence = np.zeros_like(posterior)
    confusion = np.zeros((votes.n_annotators, k, k))
    calibration = None
    if rates is None:
        rates = dirichlet_confusion if k <= FEW_CLASSES else confusion_rates
    measured = MeasuredVotes(votes, known, log_probs is not None)
    it = 0
    for _ in range(rounds):
        it += 1
        confusion = measured.confusion(rates, posterior, weight)
        if known is not None and it == 1 and weight is None:
            confusion = known.anchor(confusion, rates(known.votes, known.truth))
        prior, calibration = (
            (fixed, None) if fixed is not None else _multiclass_prior(posterior, log_probs)
        )
        evidence = _multiclass_evidence(votes, confusion, weight)
        log_post = _normalize(prior + tau * evidence)
        if known is not None:
            log_post = known.clamp_log(log_post)
        new = np.exp(log_post)
        change = float(np.mean(np.abs(new - posterior))) if new.size else 0.0
        posterior = new
        if change < tol:
            break
    prior = np.broadcast_to(prior, posterior.shape)
    fit = MulticlassFit(log_post, confusion, calibration, it, tau, every=measured.measures(rates))
    return fit, prior, evidence


_Rounds = tuple[MulticlassFit, np.ndarray, np.ndarray]


def _multiclass_evidence(
    votes: Votes, confusion: np.ndarray, weight: np.ndarray | None
) -> np.ndarray:
    """``(U, K)`` sum of the annotators' log-likelihoods, each vote's times its ``weight``."""
    log_c = np.log(confusion)[votes.annotator, :, votes.class_index()]
    return votes.task_sums(log_c if weight is None else weight[:, None] * log_c)


def _posterior(rounds: _Rounds) -> np.ndarray:
    return rounds[0].posterior


def multiclass_em(
    votes: Votes,
    start: np.ndarray,
    probs: np.ndarray | None,
    max_iter: int,
    tol: float,
    known: Known | None = None,
) -> MulticlassFit:
    """Fit the single-label model by EM from the soft labels ``start`` ``(U, K)``, gold tasks
    clamped to ``known``, weighted as :func:`binary_em` is, the temperature on the whole
    posterior (:mod:`.tempering`)."""
    log_probs = None if probs is None else np.log(np.clip(probs, model_source.CLIP, None))
    if known is not None:
        start = known.clamp(start)
    chosen: list[collapse.Rates | None] = []  # each run's M-step (None: full matrices)

    def run(rates: collapse.Rates | None, fixed: np.ndarray | None) -> _Rounds:
        chosen.append(rates)
        return _multiclass_rounds(votes, start, log_probs, max_iter, tol, 1.0, known, rates, fixed)

    if log_probs is None:  # the class prior is the posterior mean: guard its collapse
        first, fixed = collapse.guarded(run, start.mean(axis=0), _posterior)
    else:
        first, fixed = run(None, None), None

    def refit(weight: np.ndarray, before: _Rounds) -> _Rounds | None:
        again = before[0].posterior, log_probs, max_iter, tol, 1.0, known, chosen[-1], fixed
        fit, prior, evidence = _multiclass_rounds(votes, *again, weight)
        if fit.n_iter >= max_iter:  # no fixed point near the fit: it stands (:mod:`.dependence`)
            return None
        return replace(fit, n_iter=before[0].n_iter + fit.n_iter), prior, evidence

    (fit, prior, evidence), copies = dependence.multiclass_pairs(votes, first, refit)
    base = np.log(np.clip(fit.posterior.mean(axis=0), EPS, None)) if fixed is None else fixed
    model = prior if fit.calibration is not None else None
    gold = known and tempering.gold_multiclass_weights(
        base, model, evidence, known.units, known.truth, votes.count
    )
    omega, rho = gold or tempering.multiclass_weights(
        votes, base, model, evidence, fit.confusion, copies
    )
    shift = 0.0 if model is None else omega * (model - base)
    many = chosen[-1] is None and known is None and start.shape[1] > FEW_CLASSES  # :mod:`.held_out`
    held = held_out.score_log_posterior(votes, fit.posterior, base + shift) if many else None
    if omega < 1.0 or rho > 0.0 or copies is not None:
        tau = tempering.task_weights(votes.count, rho)[:, None]
        log_post = _normalize(tau * (base + shift + evidence))
        log_post = log_post if known is None else known.clamp_log(log_post)
        weight = tempering.mean_weight(votes.count, rho)
        fit = replace(
            fit, log_posterior=log_post, temperature=weight, model_share=omega, dependence=rho
        )
    scores = None if held is None else held_out.ordered_scores(fit.log_posterior, held)
    return replace(fit, scores=scores)
