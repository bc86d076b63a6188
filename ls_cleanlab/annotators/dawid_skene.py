"""Dawid-Skene EM: per-class binary (multi-label) and multiclass (single-label).

Private helper of :mod:`ls_cleanlab.annotators`; assumes valid input.

Dawid & Skene 1979, "Maximum likelihood estimation of observer error-rates using the EM
algorithm", Applied Statistics 28(1). Annotators are conditionally independent given the true
label. Multi-label: per class ``k`` the truth ``z_ik`` is binary and annotator ``j`` has a
sensitivity ``se_jk = P(y = 1 | z = 1)`` and specificity ``sp_jk = P(y = 0 | z = 0)``;

* E-step: ``logit T_ik = logit pi_k + sum_j [y_ijk log(se_jk / (1 - sp_jk))
  + (1 - y_ijk) log((1 - se_jk) / sp_jk)]``, ``pi_k`` the class prevalence;
* M-step: ``se_jk = (sum_i T_ik y_ijk + s se_j) / (sum_i T_ik + s)`` and likewise ``sp_jk``, shrunk
  with ``s = 2`` pseudo-observations toward the annotator's rates pooled over classes (rare classes
  have too few positives for their own estimate).

Single-label: annotator ``j`` has a ``K x K`` confusion matrix ``pi_j[c, l] = P(y = l | z = c)``,
``log T_ic = log pi_c + sum_j log pi_j[c, y_ij]``, shrunk toward its pooled accuracy spread evenly.

The model, when given, is one more annotator whose votes are soft (``p_ik``), with its own
sensitivity and specificity per class (single-label: confusion matrix) estimated in the M-step
like everyone else's, so its weight follows its agreement with the posterior, as CROWDLAB's model
weight does. (Taking ``p_ik`` as a fixed prior instead trusts its calibration: on the benchmark's
over-confident model that made the consensus worse than a majority vote.)

EM starts from the vote shares (a soft majority vote) and stops when the posteriors move less
than ``tol`` on average in one round (the largest move shrinks much more slowly: EM converges
linearly, and a few cells near 0.5 keep drifting long after the rest has settled).

With gold (:class:`~.gold.Known`), a gold task's posterior is its gold label in every round and
the first M-step reads the gold tasks alone for annotators with a few of them (semi-supervised
EM, Raykar et al. 2010 sec. 5): they start rated by how they did on known truth, not by
agreement with a majority that may be wrong; without gold nothing changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ls_cleanlab.annotators.votes import Votes, key_sums

if TYPE_CHECKING:
    from ls_cleanlab.annotators.gold import Known

__all__ = [
    "balanced_accuracy",
    "binary_e_step",
    "binary_em",
    "binary_m_step",
    "binary_model_evidence",
    "binary_model_m_step",
    "multiclass_e_step",
    "multiclass_em",
    "multiclass_m_step",
    "multiclass_model_m_step",
]

EPS = 1e-6
SHRINK = 2.0


def _mean_change(new: np.ndarray, old: np.ndarray) -> float:
    return float(np.mean(np.abs(new - old))) if new.size else 0.0


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -500, 500)))


def binary_m_step(votes: Votes, posterior: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sensitivity ``(M, K)``, specificity ``(M, K)`` and prevalence ``(K,)`` from ``T``."""
    m, k = votes.n_annotators, posterior.shape[1]
    present = np.bincount(votes.annotator, minlength=m)
    pos = votes.annotator_sums(posterior[votes.task])
    rows, cols = votes.marked  # sum T y over the (sparse) present votes only
    key = votes.annotator[rows] * k + cols
    tp = np.bincount(key, weights=posterior[votes.task[rows], cols], minlength=m * k)
    tp = tp.reshape(m, k)
    # sum (1 - T)(1 - y) = present - sum T - sum y + sum T y
    tn = present[:, None] - pos - votes.label_sums + tp
    neg = present[:, None] - pos
    se_pooled = (tp.sum(axis=1) + 1) / (pos.sum(axis=1) + 2)
    sp_pooled = (tn.sum(axis=1) + 1) / (neg.sum(axis=1) + 2)
    se = (tp + SHRINK * se_pooled[:, None]) / (pos + SHRINK)
    sp = (tn + SHRINK * sp_pooled[:, None]) / (neg + SHRINK)
    prevalence = posterior.mean(axis=0) if len(posterior) else np.full(k, 0.5)
    return np.clip(se, EPS, 1 - EPS), np.clip(sp, EPS, 1 - EPS), prevalence


def binary_e_step(
    votes: Votes,
    se: np.ndarray,
    sp: np.ndarray,
    prior: np.ndarray,
    extra: np.ndarray | None = None,
) -> np.ndarray:
    """``(U, K)`` posterior ``P(z_ik = 1)``; ``prior`` is ``(K,)`` (or ``(U, K)``), ``extra``
    more ``(U, K)`` log-likelihood ratios (the model's)."""
    present = np.log(se) - np.log1p(-sp)  # (M, K) log-likelihood ratio of a "present" vote
    absent = np.log1p(-se) - np.log(sp)  # ... of an "absent" vote
    rows, cols = votes.marked
    u, k = votes.n_units, se.shape[1]
    shift = (present - absent)[votes.annotator[rows], cols]
    marked = np.bincount(votes.task[rows] * k + cols, weights=shift, minlength=u * k)
    evidence = votes.task_sums(absent[votes.annotator]) + marked.reshape(u, k)
    q = np.clip(prior, EPS, 1 - EPS)
    logit = np.log(q) - np.log1p(-q) + evidence
    if extra is not None:
        logit += extra
    return _sigmoid(logit)


def binary_model_m_step(posterior: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The model as one more annotator with soft votes ``p_ik``: its sensitivity and
    specificity ``(K,)`` per class, ``(sum_i T p + 1) / (sum_i T + 2)`` and likewise."""
    se = (np.sum(posterior * probs, axis=0) + 1) / (posterior.sum(axis=0) + 2)
    sp = (np.sum((1 - posterior) * (1 - probs), axis=0) + 1) / ((1 - posterior).sum(axis=0) + 2)
    return np.clip(se, EPS, 1 - EPS), np.clip(sp, EPS, 1 - EPS)


def binary_model_evidence(probs: np.ndarray, se: np.ndarray, sp: np.ndarray) -> np.ndarray:
    """``(U, K)`` log-likelihood ratio of the model's soft votes."""
    present = np.log(se) - np.log1p(-sp)
    absent = np.log1p(-se) - np.log(sp)
    return probs * present + (1 - probs) * absent


def binary_em(
    votes: Votes,
    start: np.ndarray,
    probs: np.ndarray | None,
    max_iter: int,
    tol: float,
    known: Known | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Run EM from ``start`` ``(U, K)``, gold tasks clamped to ``known``; returns posterior,
    se, sp and the iterations used."""
    posterior = start if known is None else known.clamp(start)
    se, sp, prevalence = binary_m_step(votes, posterior)
    if known is not None:  # first rates from the gold tasks
        gold_se, gold_sp, _ = binary_m_step(known.votes, known.truth)
        se, sp = known.anchor(se, gold_se), known.anchor(sp, gold_sp)
    extra = None
    for it in range(1, max_iter + 1):
        if probs is not None:
            extra = binary_model_evidence(probs, *binary_model_m_step(posterior, probs))
        new = binary_e_step(votes, se, sp, prevalence, extra)
        if known is not None:
            new = known.clamp(new)
        done = _mean_change(new, posterior) < tol
        posterior = new
        se, sp, prevalence = binary_m_step(votes, posterior)
        if done:
            return posterior, se, sp, it
    return posterior, se, sp, max_iter


def multiclass_m_step(votes: Votes, posterior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Confusion matrices ``(M, K, K)`` (rows: true class) and class prior ``(K,)``."""
    m, k = votes.n_annotators, posterior.shape[1]
    y = votes.class_index()
    counts = key_sums(posterior[votes.task], votes.annotator * k + y, m * k)
    counts = counts.reshape(m, k, k).transpose(0, 2, 1)  # [j, true c, given l]
    prior = posterior.mean(axis=0) if len(posterior) else np.full(k, 1 / k)
    return _shrunk(counts), prior


def multiclass_e_step(
    votes: Votes, confusion: np.ndarray, prior: np.ndarray, extra: np.ndarray | None = None
) -> np.ndarray:
    """``(U, K)`` posterior over the true class; ``prior`` is ``(K,)`` (or ``(U, K)``),
    ``extra`` more ``(U, K)`` log-likelihoods (the model's)."""
    y = votes.class_index()
    log_conf = np.log(confusion)[votes.annotator, :, y]  # (A, K): log P(y_a | z = c)
    logp = np.log(np.clip(prior, EPS, None)) + votes.task_sums(log_conf)
    if extra is not None:
        logp += extra
    logp -= logp.max(axis=1, keepdims=True)
    out = np.exp(logp)
    return out / out.sum(axis=1, keepdims=True)


def _shrunk(counts: np.ndarray) -> np.ndarray:
    """Rows of ``(..., K, K)`` counts (true class x given class) normalized, shrunk with
    ``SHRINK`` pseudo-observations toward the pooled accuracy spread evenly."""
    k = counts.shape[-1]
    total = counts.sum(axis=(-2, -1))
    accuracy = (np.trace(counts, axis1=-2, axis2=-1) + 1) / (total + 2)
    spread = np.broadcast_to(((1 - accuracy) / max(k - 1, 1))[..., None, None], counts.shape)
    spread = spread.copy()
    spread[..., np.arange(k), np.arange(k)] = accuracy[..., None]
    shrunk = (counts + SHRINK * spread) / (counts.sum(axis=-1, keepdims=True) + SHRINK)
    return np.clip(shrunk, EPS, 1.0)


def multiclass_model_m_step(posterior: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The model as one more annotator with soft votes: its ``(K, K)`` confusion matrix."""
    return _shrunk(posterior.T @ probs)


def multiclass_em(
    votes: Votes,
    start: np.ndarray,
    probs: np.ndarray | None,
    max_iter: int,
    tol: float,
    known: Known | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Run EM from ``start`` ``(U, K)``, gold tasks clamped to ``known``; returns posterior,
    confusion and iterations used."""
    posterior = start if known is None else known.clamp(start)
    confusion, prior = multiclass_m_step(votes, posterior)
    if known is not None:  # first rates from the gold tasks
        confusion = known.anchor(confusion, multiclass_m_step(known.votes, known.truth)[0])
    extra = None
    for it in range(1, max_iter + 1):
        if probs is not None:
            log_model = np.log(multiclass_model_m_step(posterior, probs))  # [c, l]
            extra = probs @ log_model.T  # sum_l p_il log P(model says l | z = c)
        new = multiclass_e_step(votes, confusion, prior, extra)
        if known is not None:
            new = known.clamp(new)
        done = _mean_change(new, posterior) < tol
        posterior = new
        confusion, prior = multiclass_m_step(votes, posterior)
        if done:
            return posterior, confusion, it
    return posterior, confusion, max_iter


def balanced_accuracy(votes: Votes, posterior: np.ndarray) -> np.ndarray:
    """``(M,)`` ``(se_j + sp_j) / 2`` with sensitivity and specificity pooled over classes,
    weighted by the posterior ``T`` ``(U, K)``."""
    t = posterior[votes.task]
    y = votes.labels
    m = votes.n_annotators

    def per_annotator(values: np.ndarray) -> np.ndarray:
        return np.bincount(votes.annotator, weights=values.sum(axis=1), minlength=m)

    tp, pos = per_annotator(t * y), per_annotator(t)
    tn, neg = per_annotator((1 - t) * ~y), per_annotator(1 - t)
    se = np.divide(tp, pos, out=np.full(m, 0.5), where=pos > 0)
    sp = np.divide(tn, neg, out=np.full(m, 0.5), where=neg > 0)
    return (se + sp) / 2
