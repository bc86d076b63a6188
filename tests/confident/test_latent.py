"""Priors and noise matrices against cleanlab's estimate_latent, per class for multi-label."""

from __future__ import annotations

import cleanlab.count
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ls_cleanlab.confident import (
    compute_confident_joint,
    estimate_latent,
    estimate_noise_matrices,
)
from ls_cleanlab.errors import InvalidOptionError
from tests.confident.strategies import multilabel_case, single_label_case

PY_METHODS = ["cnt", "eqn", "marginal", "marginal_ps"]


def _reference(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except np.linalg.LinAlgError:
        return None


def _assert_estimates(got, expected):
    mine = (got.prior, got.noise_matrix, got.inverse_noise_matrix)
    for ours, theirs in zip(mine, expected[:3], strict=True):
        np.testing.assert_array_equal(ours, theirs)


@given(case=single_label_case(), py_method=st.sampled_from(PY_METHODS), converge=st.booleans())
def test_single_label_latent(case, py_method, converge):
    labels, probs = case
    cj = compute_confident_joint(labels, probs)
    expected = _reference(
        cleanlab.count.estimate_latent,
        cj,
        labels,
        py_method=py_method,
        converge_latent_estimates=converge,
    )
    if expected is None:
        with pytest.raises(InvalidOptionError, match="singular"):
            estimate_latent(cj, labels, py_method=py_method, converge_latent_estimates=converge)
        return
    got = estimate_latent(cj, labels, py_method=py_method, converge_latent_estimates=converge)
    _assert_estimates(got, expected)
    np.testing.assert_array_equal(got.confident_joint, cj)


@given(case=single_label_case(), calibrate=st.booleans(), converge=st.booleans())
def test_single_label_noise_from_probabilities(case, calibrate, converge):
    labels, probs = case
    expected = cleanlab.count.estimate_py_and_noise_matrices_from_probabilities(
        labels, probs, calibrate=calibrate, converge_latent_estimates=converge
    )
    got = estimate_noise_matrices(
        labels, probs, calibrate=calibrate, converge_latent_estimates=converge
    )
    _assert_estimates(got, expected)
    np.testing.assert_array_equal(got.confident_joint, expected[3])


@given(
    case=multilabel_case(valid_for_issues=False),
    py_method=st.sampled_from(PY_METHODS),
    converge=st.booleans(),
)
def test_multilabel_latent_is_cleanlab_per_class(case, py_method, converge):
    given_matrix, probs = case
    cj = compute_confident_joint(given_matrix, probs, multi_label=True)
    try:
        got = estimate_latent(
            cj,
            given_matrix,
            multi_label=True,
            py_method=py_method,
            converge_latent_estimates=converge,
        )
    except InvalidOptionError:
        got = None
    expected = [
        _reference(
            cleanlab.count.estimate_latent,
            cj[c],
            given_matrix[:, c],
            py_method=py_method,
            converge_latent_estimates=converge,
        )
        for c in range(probs.shape[1])
    ]
    if any(e is None for e in expected):
        assert got is None  # a singular class matrix is refused for the whole call
        return
    assert got is not None
    for c, (prior, noise, inverse) in enumerate(expected):
        np.testing.assert_array_equal(got.prior[c], prior)
        np.testing.assert_array_equal(got.noise_matrix[c], noise)
        np.testing.assert_array_equal(got.inverse_noise_matrix[c], inverse)


def test_noise_matrices_are_column_stochastic():
    rng = np.random.default_rng(1)
    given_matrix = rng.random((300, 3)) < 0.3
    probs = np.clip(given_matrix * 0.7 + rng.random((300, 3)) * 0.3, 0, 1)
    est = estimate_noise_matrices(given_matrix, probs, multi_label=True)
    assert est.prior.shape == (3, 2) and est.noise_matrix.shape == (3, 2, 2)
    np.testing.assert_allclose(est.prior.sum(axis=1), 1)
    np.testing.assert_allclose(est.noise_matrix.sum(axis=1), 1)
    np.testing.assert_allclose(est.inverse_noise_matrix.sum(axis=1), 1)


def test_bad_prior_method():
    with pytest.raises(InvalidOptionError, match="py_method='x' is not supported"):
        estimate_latent(np.eye(2, dtype=int), [0, 1], py_method="x")
