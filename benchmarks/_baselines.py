"""The simple baselines the audit must never fall below (issue 14).

* ``vote``: majority vote per class (ties to the model at 0.5, without a model to present;
  single-label: plurality, ties broken at random with a fixed seed), ranked by cleanlab 2.9.0's
  multi-label label quality of that vote (``get_label_quality_scores``; without a model the vote
  shares stand in for the probabilities; single-label: one minus the consensus class's vote
  share); annotators ranked by agreement with the vote (mean Jaccard index on shared tasks).
* ``dawid_skene``: Dawid & Skene (1979) EM. Multi-label: per class a binary truth, each
  annotator with a sensitivity and specificity per class shrunk toward its rates pooled over
  classes (:data:`SHRINK` pseudo-observations), a prevalence per class; the model, when given,
  is one more annotator voting ``p >= 0.5``. Single-label: a confusion matrix per annotator with
  Laplace smoothing. Annotators ranked by balanced accuracy (multi-label) or the posterior
  share of their answers that are right (single-label); tasks by cleanlab's quality of the
  Dawid-Skene labels under the posterior.

Each returns a :class:`Baseline`: consensus (n, K) bool, priority (n,), cell scores (n, K) as
the probability the consensus cell is wrong, and annotator quality (a Series by annotator id).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from _regimes import majority_vote
from scipy import sparse

__all__ = ["Baseline", "dawid_skene", "jaccard", "vote"]

SHRINK = 4.0
MAX_ITER = 100
TOL = 1e-5
MODEL_ID = "__model__"


@dataclass(frozen=True)
class Baseline:
    name: str
    consensus: np.ndarray
    priority: np.ndarray
    cell_scores: np.ndarray
    annotator_quality: pd.Series | None


def _cleanlab_priority(consensus: np.ndarray, probs: np.ndarray) -> np.ndarray:
    from cleanlab.multilabel_classification import get_label_quality_scores

    lists = [np.flatnonzero(row).tolist() for row in consensus]
    return 1.0 - np.asarray(get_label_quality_scores(lists, np.clip(probs, 0.0, 1.0)))


def _shares(task: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    votes = np.zeros((n, labels.shape[1]))
    np.add.at(votes, task, labels.astype(np.float64))
    return votes / np.maximum(np.bincount(task, minlength=n), 1)[:, None]


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    inter = (a & b).sum(axis=1)
    union = (a | b).sum(axis=1)
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def _agreement(
    task: np.ndarray, who: np.ndarray, labels: np.ndarray, consensus: np.ndarray, n: int
) -> pd.Series | None:
    shared = np.bincount(task, minlength=n)[task] > 1
    if not shared.any():
        return None
    score = jaccard(labels[shared].astype(bool), consensus[task[shared]])
    return pd.Series(score).groupby(who[shared]).mean()


def _plurality(
    task: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    shares = _shares(task, labels, n)
    top = shares == shares.max(axis=1, keepdims=True)
    pick = np.argmax(top * rng.random(shares.shape), axis=1)
    out = np.zeros(shares.shape, dtype=bool)
    out[np.arange(n), pick] = True
    return out


def vote(
    task: np.ndarray,
    who: np.ndarray,
    labels: np.ndarray,
    n: int,
    probs: np.ndarray | None,
    *,
    single_label: bool = False,
    seed: int = 0,
) -> Baseline:
    """Majority vote + cleanlab's ranking + agreement-with-vote annotator ranking."""
    labels = labels.astype(bool)
    shares = _shares(task, labels, n)
    if single_label:
        cons = _plurality(task, labels, n, np.random.default_rng(seed))
        p = shares if probs is None else probs
        cells = np.where(cons, 1.0 - p, p)
        priority = (cells * cons).sum(axis=1)
    else:
        cons = majority_vote(task, labels, n, probs)
        p = shares if probs is None else probs
        cells = np.where(cons, 1.0 - p, p)
        priority = _cleanlab_priority(cons, p)
    return Baseline("vote", cons, priority, cells, _agreement(task, who, labels, cons, n))


# -- Dawid-Skene ----------------------------------------------------------------------------------


def _binary_m_step(
    y: np.ndarray, t: np.ndarray, by_who: sparse.csr_matrix
) -> tuple[np.ndarray, np.ndarray]:
    pos, tp = by_who @ t, by_who @ (t * y)
    neg, tn = by_who @ (1 - t), by_who @ ((1 - t) * (1 - y))
    se_pool = (tp.sum(axis=1) + 1) / (pos.sum(axis=1) + 2)
    sp_pool = (tn.sum(axis=1) + 1) / (neg.sum(axis=1) + 2)
    se = (tp + SHRINK * se_pool[:, None]) / (pos + SHRINK)
    sp = (tn + SHRINK * sp_pool[:, None]) / (neg + SHRINK)
    return np.clip(se, 1e-4, 1 - 1e-4), np.clip(sp, 1e-4, 1 - 1e-4)


def _binary_e_step(
    y: np.ndarray,
    code: np.ndarray,
    by_task: sparse.csr_matrix,
    se: np.ndarray,
    sp: np.ndarray,
    prior: np.ndarray,
) -> np.ndarray:
    yes = np.log(se) - np.log1p(-sp)
    no = np.log1p(-se) - np.log(sp)
    evidence = np.where(y > 0, yes[code], no[code])
    q = np.clip(prior, 1e-4, 1 - 1e-4)
    z = np.log(q) - np.log1p(-q) + by_task @ evidence
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _binary_ds(
    task: np.ndarray, code: np.ndarray, y: np.ndarray, n: int, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = len(task)
    by_task = sparse.csr_matrix((np.ones(a), (task, np.arange(a))), shape=(n, a))
    by_who = sparse.csr_matrix((np.ones(a), (code, np.arange(a))), shape=(m, a))
    count = np.maximum(np.asarray(by_task.sum(axis=1)).ravel(), 1)
    post = (by_task @ y) / count[:, None]
    for _ in range(MAX_ITER):
        se, sp = _binary_m_step(y, post[task], by_who)
        new = _binary_e_step(y, code, by_task, se, sp, post.mean(axis=0))
        done = np.abs(new - post).mean() < TOL
        post = new
        if done:
            break
    se, sp = _binary_m_step(y, post[task], by_who)
    return post, se, sp


def _multiclass_ds(task: np.ndarray, code: np.ndarray, y: np.ndarray, n: int, m: int) -> np.ndarray:
    k = y.shape[1]
    a = len(task)
    by_task = sparse.csr_matrix((np.ones(a), (task, np.arange(a))), shape=(n, a))
    post = (by_task @ y) / np.maximum(np.asarray(by_task.sum(axis=1)).ravel(), 1)[:, None]
    given = y.argmax(axis=1)
    for _ in range(MAX_ITER):
        counts = np.zeros((m, k, k))  # [annotator, true, given]
        np.add.at(counts, (code, slice(None), given), post[task])
        confusion = (counts + 0.5) / (counts.sum(axis=2, keepdims=True) + 0.5 * k)
        prior = np.clip(post.mean(axis=0), 1e-4, None)
        loglik = np.log(confusion)[code, :, given]  # (A, K): log P(given | true c)
        logp = np.log(prior)[None, :] + by_task @ loglik
        logp -= logp.max(axis=1, keepdims=True)
        new = np.exp(logp)
        new /= new.sum(axis=1, keepdims=True)
        done = np.abs(new - post).mean() < TOL
        post = new
        if done:
            break
    return post


def dawid_skene(
    task: np.ndarray,
    who: np.ndarray,
    labels: np.ndarray,
    n: int,
    probs: np.ndarray | None,
    *,
    single_label: bool = False,
) -> Baseline:
    """Dawid-Skene consensus, ranking and annotator quality (module docstring)."""
    ids, code = np.unique(who.astype(str), return_inverse=True)
    y = labels.astype(np.float64)
    if single_label:
        post = _multiclass_ds(task, code, y, n, len(ids))
        cons = np.zeros(post.shape, dtype=bool)
        cons[np.arange(n), post.argmax(axis=1)] = True
        cells = np.where(cons, 1.0 - post, post)
        right = post[task, labels.argmax(axis=1)]
        quality = pd.Series(right).groupby(ids[code]).mean()
        return Baseline("dawid_skene", cons, (cells * cons).sum(axis=1), cells, quality)
    m = len(ids)
    if probs is not None:  # the model: one more annotator of every task, voting p >= 0.5
        task = np.concatenate([task, np.arange(n)])
        code = np.concatenate([code, np.full(n, m)])
        y = np.vstack([y, (probs >= 0.5).astype(np.float64)])
        m += 1
    post, _, _ = _binary_ds(task, code, y, n, m)
    cons = post > 0.5
    cells = np.where(cons, 1.0 - post, post)
    pos = np.bincount(code, weights=post[task].sum(axis=1), minlength=m)
    tp = np.bincount(code, weights=(post[task] * y).sum(axis=1), minlength=m)
    neg = np.bincount(code, weights=(1 - post[task]).sum(axis=1), minlength=m)
    tn = np.bincount(code, weights=((1 - post[task]) * (1 - y)).sum(axis=1), minlength=m)
    balanced = (tp / np.maximum(pos, 1e-12) + tn / np.maximum(neg, 1e-12)) / 2
    quality = pd.Series(balanced[: len(ids)], index=ids)
    return Baseline("dawid_skene", cons, _cleanlab_priority(cons, post), cells, quality)
