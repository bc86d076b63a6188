"""Label quality scores: equal to cleanlab 2.9.0 (to 1e-9, and bit for bit in practice)."""

from __future__ import annotations

import cleanlab.multilabel_classification.rank as cl_multilabel
import cleanlab.rank
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ls_cleanlab.confident import (
    METHODS,
    exponential_moving_average,
    label_quality_scores,
    label_quality_scores_per_class,
    softmin,
)
from ls_cleanlab.errors import InvalidOptionError, InvalidPredProbsError
from tests.confident.strategies import as_lists, multilabel_case, single_label_case

AGGREGATORS = [
    ("exponential_moving_average", {"alpha": 0.8}),
    ("exponential_moving_average", {"alpha": 0.0}),
    ("exponential_moving_average", {"alpha": 0.3}),
    ("exponential_moving_average", {"alpha": 1.0}),
    ("softmin", {"temperature": 0.1}),
    ("softmin", {"temperature": 0.01}),
    ("softmin", {"temperature": 2.0}),
    (np.min, {}),
    (np.mean, {}),
]


@st.composite
def scorable_multilabel(draw: st.DrawFn):
    """cleanlab's multi-label scorer needs K >= 2 and both 0 and 1 among the labels."""
    given_matrix, probs = draw(multilabel_case(valid_for_issues=False))
    if probs.shape[1] < 2:
        given_matrix = np.column_stack([given_matrix, 1 - given_matrix[:, 0]])
        probs = np.column_stack([probs, probs[:, 0]])
    given_matrix[0, 0], given_matrix[0, 1] = 0, 1
    return given_matrix, probs


def _method_and_adjust(draw):
    method = draw(st.sampled_from(METHODS))
    adjust = method != "confidence_weighted_entropy" and draw(st.booleans())
    return method, adjust


@given(case=scorable_multilabel(), data=st.data())
def test_multilabel_scores_match_cleanlab(case, data):
    given_matrix, probs = case
    method, adjust = _method_and_adjust(data.draw)
    aggregator, kwargs = data.draw(st.sampled_from(AGGREGATORS))
    expected = cl_multilabel.get_label_quality_scores(
        as_lists(given_matrix),
        probs,
        method=method,
        adjust_pred_probs=adjust,
        aggregator_kwargs={"method": aggregator, **kwargs},
    )
    got = label_quality_scores(
        given_matrix,
        probs,
        multi_label=True,
        method=method,
        adjust_pred_probs=adjust,
        aggregator=aggregator,
        **kwargs,
    )
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    if isinstance(aggregator, str) and aggregator.startswith("exponential"):
        np.testing.assert_array_equal(got, expected)  # same operations, same bits


@given(case=scorable_multilabel(), data=st.data())
def test_per_class_scores_match_cleanlab(case, data):
    given_matrix, probs = case
    method, adjust = _method_and_adjust(data.draw)
    expected = cl_multilabel.get_label_quality_scores_per_class(
        as_lists(given_matrix), probs, method=method, adjust_pred_probs=adjust
    )
    got = label_quality_scores_per_class(
        given_matrix, probs, method=method, adjust_pred_probs=adjust
    )
    np.testing.assert_array_equal(got, expected)


@given(case=single_label_case(), data=st.data())
def test_single_label_scores_match_cleanlab(case, data):
    labels, probs = case
    method, adjust = _method_and_adjust(data.draw)
    expected = cleanlab.rank.get_label_quality_scores(
        labels, probs, method=method, adjust_pred_probs=adjust
    )
    got = label_quality_scores(labels, probs, method=method, adjust_pred_probs=adjust)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(got, expected)


@given(case=multilabel_case(valid_for_issues=False), data=st.data())
def test_scores_lie_in_unit_interval(case, data):
    given_matrix, probs = case
    method, adjust = _method_and_adjust(data.draw)
    got = label_quality_scores(
        given_matrix, probs, multi_label=True, method=method, adjust_pred_probs=adjust
    )
    assert got.shape == (len(probs),)
    assert np.all((got >= -1e-12) & (got <= 1 + 1e-12))


def test_perfect_predictions_score_one_and_wrong_ones_zero():
    given_matrix = np.array([[1, 0], [0, 1]])
    assert np.all(label_quality_scores(given_matrix, given_matrix * 1.0, multi_label=True) == 1)
    assert np.all(label_quality_scores(given_matrix, 1.0 - given_matrix, multi_label=True) == 0)


def test_missing_label_scores_lower_than_correct_one():
    given_matrix = np.array([[1, 0], [1, 0]])
    probs = np.array([[0.9, 0.05], [0.9, 0.95]])  # example 1 misses class 1
    scores = label_quality_scores(given_matrix, probs, multi_label=True)
    assert scores[1] < scores[0]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "bogus"}, InvalidOptionError, "method='bogus' is not supported"),
        (
            {"method": "confidence_weighted_entropy", "adjust_pred_probs": True},
            InvalidOptionError,
            "not supported with method='confidence_weighted_entropy'",
        ),
        ({"aggregator": "max"}, InvalidOptionError, "aggregator='max' is not supported"),
        ({"alpha": 1.5}, InvalidOptionError, r"alpha must be a number in \[0, 1\]"),
        ({"aggregator": "softmin", "temperature": 0}, InvalidOptionError, "temperature must be"),
        ({"aggregator": lambda s, axis: s}, InvalidOptionError, "returned shape"),
    ],
    ids=["method", "cwe_adjust", "aggregator", "alpha", "temperature", "callable_shape"],
)
def test_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        label_quality_scores(
            [[0], [1]], np.array([[0.2, 0.1], [0.1, 0.9]]), multi_label=True, **kwargs
        )


def test_entropy_needs_probabilities_within_unit_interval():
    probs = np.array([[1.0000005, 0.2], [0.1, 0.9]])
    with pytest.raises(InvalidPredProbsError, match="within \\[0, 1\\] exactly"):
        label_quality_scores(
            [[0], [1]], probs, multi_label=True, method="confidence_weighted_entropy"
        )


def test_alpha_none_means_two_over_k_plus_one():
    rng = np.random.default_rng(2)
    given_matrix = rng.random((50, 4)) < 0.4
    probs = rng.random((50, 4))
    expected = cl_multilabel.get_label_quality_scores(
        as_lists(given_matrix),
        probs,
        aggregator_kwargs={"method": "exponential_moving_average", "alpha": None},
    )
    got = label_quality_scores(given_matrix, probs, multi_label=True, alpha=None)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("func", "kwargs", "match"),
    [
        (exponential_moving_average, {"alpha": 5}, r"alpha must be a number in \[0, 1\]"),
        (exponential_moving_average, {}, r"scores must be an \(N, K\) array"),
        (softmin, {"temperature": -1}, "temperature must be a number > 0"),
    ],
    ids=["alpha", "shape", "temperature"],
)
def test_public_aggregators_validate(func, kwargs, match):
    scores = np.array([0.2, 0.4]) if kwargs == {} else np.array([[0.2, 0.4]])
    with pytest.raises(InvalidOptionError, match=match):
        func(scores, **kwargs)


def test_entropy_scores_match_cleanlab_bit_for_bit_where_logs_differ():
    """numpy's vectorized log and libm's differ in the last bit at some inputs; cleanlab uses
    scipy's xlogy (libm), and so must the entropy here (found by hypothesis)."""
    probs = np.array([[0.7058208604199626, 0.030293157486611877, 0.014214669554899362]])
    given = np.array([[0, 1, 1]])
    expected = cl_multilabel.get_label_quality_scores_per_class(
        as_lists(given), probs, method="confidence_weighted_entropy"
    )
    got = label_quality_scores_per_class(given, probs, method="confidence_weighted_entropy")
    np.testing.assert_array_equal(got, expected)
