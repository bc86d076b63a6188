"""Dawid-Skene: its E- and M-steps alone (binary, with the model as an annotator, multiclass) and
the whole EM deterministic with its iteration count."""

from __future__ import annotations

import numpy as np

from ls_cleanlab.annotators import consensus
from ls_cleanlab.annotators.dawid_skene import (
    binary_e_step,
    binary_m_step,
    binary_model_evidence,
    binary_model_m_step,
    multiclass_model_m_step,
)
from ls_cleanlab.annotators.votes import Votes
from tests.annotators.crowds import simulate_multilabel, simulate_single


def test_dawid_skene_steps() -> None:
    ann, truth, _ = simulate_multilabel(3, n=2000)
    votes = Votes.from_annotations(ann)
    se, sp, prevalence = binary_m_step(votes, truth.astype(float))
    np.testing.assert_allclose(prevalence, truth.mean(axis=0))
    # sensitivity is 1 - miss rate (plus the 2% spurious labels), specificity about 0.98
    np.testing.assert_allclose(se.mean(axis=1), [0.95, 0.9, 0.8, 0.5], atol=0.03)
    np.testing.assert_allclose(sp.mean(axis=1), 0.98, atol=0.01)
    posterior = binary_e_step(votes, se, sp, prevalence)
    assert ((posterior > 0.5) == truth).mean() > 0.98
    # one perfect annotator: the posterior is its vote
    alone = Votes.from_annotations(ann.subset(ann.annotator == "annotator-0"))
    sure = np.full((1, se.shape[1]), 1 - 1e-6)
    posterior = binary_e_step(alone, sure, sure, prevalence)
    np.testing.assert_array_equal(posterior > 0.5, alone.labels)


def test_dawid_skene_model_steps() -> None:
    rng = np.random.default_rng(0)
    truth = (rng.random((400, 3)) < 0.4).astype(float)
    se, sp = binary_model_m_step(truth, truth)  # a perfect model
    assert np.all(se > 0.99) and np.all(sp > 0.99)
    se, sp = binary_model_m_step(truth, np.full_like(truth, 0.5))  # an uninformative one
    np.testing.assert_allclose(se, 0.5, atol=0.01)
    np.testing.assert_allclose(
        binary_model_evidence(np.full_like(truth, 0.5), se, sp), 0, atol=0.05
    )
    one_hot = np.eye(3)[rng.integers(0, 3, 300)]
    confusion = multiclass_model_m_step(one_hot, one_hot)
    assert np.all(np.diag(confusion) > 0.98)
    np.testing.assert_allclose(confusion.sum(axis=1), 1.0)


def test_dawid_skene_is_deterministic_and_reports_iterations() -> None:
    ann, _, probs = simulate_single(4, n=300)
    a = consensus(ann, 300, probs, method="dawid_skene", max_iter=3)
    b = consensus(ann, 300, probs, method="dawid_skene", max_iter=3)
    assert a.n_iter == 3
    np.testing.assert_array_equal(a.posterior, b.posterior)
