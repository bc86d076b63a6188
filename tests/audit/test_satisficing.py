"""Tests of the missing-label evidence: co-occurrence, lift, the per-class logistic fits."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from ls_cleanlab.audit.satisficing import (
    SHRINKAGE,
    cell_evidence,
    cooccurrence,
    cooccurrence_lift,
    fit_logistic_per_class,
    logit,
    sigmoid,
)
from ls_cleanlab.testing.simulate import make_project, satisfice


def test_cooccurrence_matches_counting() -> None:
    rng = np.random.default_rng(1)
    labels = rng.random((200, 5)) < 0.3
    cooc = cooccurrence(labels)
    for a in range(5):
        for b in range(5):
            both = int((labels[:, a] & labels[:, b]).sum())
            assert cooc.counts[a, b] == both
            if a != b:
                expected = (both + SHRINKAGE * labels[:, b].mean()) / (
                    labels[:, a].sum() + SHRINKAGE
                )
                assert cooc.conditional[a, b] == pytest.approx(expected)
    assert np.all(np.diag(cooc.conditional) == 1)


def test_lift_is_the_strongest_present_class() -> None:
    rng = np.random.default_rng(2)
    labels = rng.random((300, 6)) < 0.3
    labels[:, 1] = labels[:, 0] & (rng.random(300) < 0.9)
    cooc = cooccurrence(labels)
    lift, source = cooccurrence_lift(labels, cooc, chunk=7)
    table = logit(cooc.conditional) - logit(cooc.prevalence)[None, :]
    for i in range(300):
        for b in range(6):
            others = [a for a in np.flatnonzero(labels[i]) if a != b and table[a, b] > 0]
            if not others:
                assert lift[i, b] == 0 and source[i, b] == -1
            else:
                best = max(others, key=lambda a: table[a, b])
                assert source[i, b] == best
                assert lift[i, b] == pytest.approx(table[best, b], rel=1e-6)
    # class 1 nearly always comes with 0: tasks with 0 but not 1 get a large lift on 1
    rows = labels[:, 0] & ~labels[:, 1]
    assert (lift[rows, 1] > 1.5).all() and (source[rows, 1] == 0).all()


def test_logistic_fit_matches_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2000, 3, 2)) * np.array([1.0, 10.0]) + np.array([0.5, -4.0])
    true_w = np.array([[0.5, 1.0, -0.1], [-1.0, 2.0, 0.3], [0.0, -0.5, 0.05]])
    z = true_w[:, 0] + np.einsum("nkf,kf->nk", x, true_w[:, 1:])
    y = rng.random((2000, 3)) < sigmoid(z)
    ours = fit_logistic_per_class(x, y, ridge=1.0)
    for k in range(3):
        mean, std = x[:, k].mean(axis=0), x[:, k].std(axis=0)
        model = LogisticRegression(C=1.0, tol=1e-10, max_iter=1000).fit(
            (x[:, k] - mean) / std, y[:, k]
        )
        slopes = model.coef_[0] / std
        np.testing.assert_allclose(ours[k, 1:], slopes, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(
            ours[k, 0], model.intercept_[0] - slopes @ mean, rtol=1e-4, atol=1e-6
        )


def test_evidence_finds_satisficing_misses() -> None:
    project = make_project(seed=4, model_noise=1.2)
    given = satisfice(project.truth, 0.4, np.random.default_rng(5))
    missing = project.truth & ~given
    ev = cell_evidence(given.astype(np.int8), project.pred_probs)
    assert ev.model is not None and ev.deficit is not None
    present = sigmoid(ev.model + ev.extra)
    absent = ~given
    ours = roc_auc_score(missing[absent], present[absent])
    assert ours >= 0.9
    # the deficit carries the satisficing: cells of tasks short of labels score higher
    short = ev.deficit >= 1
    assert present[short][absent[short]].mean() > present[~short][absent[~short]].mean()
    assert (ev.lift_weight >= 0).all()  # no signal flips its meaning


def test_evidence_without_a_model_uses_cooccurrence() -> None:
    project = make_project(seed=6)
    given = project.truth.copy()
    rng = np.random.default_rng(7)
    drop = given[:, 1] & (rng.random(len(given)) < 0.3)
    given[drop, 1] = False
    ev = cell_evidence(given.astype(np.int8), None)
    assert ev.model is None and ev.deficit is None
    candidates = given[:, 0] & ~given[:, 1]
    # the dropped class-1 labels are exactly those that co-occurrence points at
    assert roc_auc_score(drop[~given[:, 1]], ev.extra[~given[:, 1], 1]) > 0.9
    assert (ev.lift_source[candidates, 1] == 0).all()


def test_logit_and_sigmoid_are_inverse_and_safe() -> None:
    p = np.array([0.0, 1e-9, 0.3, 0.5, 1.0])
    z = logit(p)
    assert np.isfinite(z).all()
    np.testing.assert_allclose(sigmoid(z[2:4]), p[2:4])
    assert np.isfinite(sigmoid(np.array([-1e6, 1e6]))).all()


def test_consensus_shortfall_weight_tells_real_minority_labels_from_slips() -> None:
    from ls_cleanlab.audit.satisficing import consensus_shortfall_weight

    project = make_project(n=2000, seed=8)
    rng = np.random.default_rng(9)
    given = project.truth & (rng.random(project.truth.shape) < 0.7)  # consensus misses 30%
    real = np.where(project.truth & ~given, 1, 0)  # a minority marked exactly the misses
    slips = np.where(~given & (rng.random(given.shape) < 0.05), 1, 0)  # random noise
    slips[project.truth & ~given] = 0
    assert consensus_shortfall_weight(project.pred_probs, given, real, rng) > 0.8
    assert consensus_shortfall_weight(project.pred_probs, given, slips, rng) < 0.1
    assert consensus_shortfall_weight(project.pred_probs, given, np.zeros_like(real), rng) == 0
