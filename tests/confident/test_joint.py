"""Confident joint, thresholds, calibration, joint and num_label_issues against cleanlab."""

from __future__ import annotations

import cleanlab.count
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ls_cleanlab.confident import (
    calibrate_confident_joint,
    compute_confident_joint,
    confident_thresholds,
    estimate_joint,
    num_label_issues,
)
from ls_cleanlab.errors import InvalidLabelsError, InvalidOptionError
from tests.confident.strategies import as_lists, multilabel_case, quiet, single_label_case


@given(case=multilabel_case(valid_for_issues=False))
def test_multilabel_thresholds(case):
    given_matrix, probs = case
    expected = cleanlab.count.get_confident_thresholds(
        as_lists(given_matrix), probs, multi_label=True
    )
    np.testing.assert_array_equal(
        confident_thresholds(given_matrix, probs, multi_label=True), expected
    )


@given(case=single_label_case())
def test_single_label_thresholds(case):
    labels, probs = case
    expected = cleanlab.count.get_confident_thresholds(labels, probs)
    np.testing.assert_array_equal(confident_thresholds(labels, probs), expected)


@given(case=multilabel_case(valid_for_issues=False), calibrate=st.booleans())
def test_multilabel_confident_joint(case, calibrate):
    given_matrix, probs = case
    expected = cleanlab.count.compute_confident_joint(
        as_lists(given_matrix), probs, multi_label=True, calibrate=calibrate
    )
    got = compute_confident_joint(given_matrix, probs, multi_label=True, calibrate=calibrate)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)


@given(
    case=multilabel_case(valid_for_issues=False),
    thresholds=st.lists(st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0, 2.0]), min_size=2, max_size=2),
)
def test_multilabel_confident_joint_with_thresholds(case, thresholds):
    given_matrix, probs = case
    expected = cleanlab.count.compute_confident_joint(
        as_lists(given_matrix), probs, multi_label=True, thresholds=thresholds
    )
    got = compute_confident_joint(given_matrix, probs, multi_label=True, thresholds=thresholds)
    np.testing.assert_array_equal(got, expected)


@given(case=single_label_case(), calibrate=st.booleans(), use_thresholds=st.booleans())
def test_single_label_confident_joint(case, calibrate, use_thresholds):
    labels, probs = case
    thresholds = np.linspace(0.2, 0.8, probs.shape[1]) if use_thresholds else None
    expected = cleanlab.count.compute_confident_joint(
        labels, probs, calibrate=calibrate, thresholds=thresholds
    )
    got = compute_confident_joint(labels, probs, calibrate=calibrate, thresholds=thresholds)
    np.testing.assert_array_equal(got, expected)


@given(case=single_label_case(), data=st.data())
def test_single_label_calibration_and_joint(case, data):
    labels, probs = case
    k = probs.shape[1]
    cj = data.draw(st.lists(st.integers(0, 30), min_size=k * k, max_size=k * k))
    cj = np.array(cj).reshape(k, k)
    np.testing.assert_array_equal(
        calibrate_confident_joint(cj, labels), cleanlab.count.calibrate_confident_joint(cj, labels)
    )
    np.testing.assert_array_equal(
        estimate_joint(labels, probs, confident_joint=cj),
        cleanlab.count.estimate_joint(labels, probs, confident_joint=cj),
    )
    np.testing.assert_array_equal(
        estimate_joint(labels, probs), cleanlab.count.estimate_joint(labels, probs)
    )


@given(case=multilabel_case(valid_for_issues=False), data=st.data())
def test_multilabel_calibration_and_joint(case, data):
    given_matrix, probs = case
    given_matrix[-1, :] = 1  # cleanlab's multi-label calibration needs every class given
    k = probs.shape[1]
    cj = np.array(data.draw(st.lists(st.integers(0, 30), min_size=4 * k, max_size=4 * k)))
    cj = cj.reshape(k, 2, 2)
    lists = as_lists(given_matrix)
    np.testing.assert_array_equal(
        calibrate_confident_joint(cj, given_matrix, multi_label=True),
        cleanlab.count.calibrate_confident_joint(cj, lists, multi_label=True),
    )
    np.testing.assert_array_equal(
        estimate_joint(given_matrix, probs, multi_label=True),
        cleanlab.count.estimate_joint(lists, probs, multi_label=True),
    )
    np.testing.assert_array_equal(
        estimate_joint(given_matrix, probs, multi_label=True, confident_joint=cj),
        cleanlab.count.estimate_joint(lists, probs, multi_label=True, confident_joint=cj),
    )


@pytest.mark.parametrize("method", ["off_diagonal", "off_diagonal_calibrated"])
@pytest.mark.parametrize("given_class", [0, 2])
def test_num_label_issues_refuses_labels_of_one_class(method, given_class):
    probs = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    labels = np.full(3, given_class)
    with pytest.raises(ValueError, match="at least 2 classes"):  # cleanlab's refusal
        cleanlab.count.num_label_issues(labels, probs, estimation_method=method)
    with pytest.raises(InvalidLabelsError, match=f"all labels are class {given_class}"):
        num_label_issues(labels, probs, estimation_method=method)


@given(case=single_label_case(), data=st.data())
def test_single_label_num_label_issues(case, data):
    labels, probs = case
    method = data.draw(st.sampled_from(["off_diagonal", "off_diagonal_calibrated"]))
    expected = cleanlab.count.num_label_issues(labels, probs, estimation_method=method)
    assert num_label_issues(labels, probs, estimation_method=method) == expected
    cj = compute_confident_joint(labels, probs, calibrate=False)
    expected = cleanlab.count.num_label_issues(
        labels, probs, confident_joint=cj, estimation_method="off_diagonal_custom"
    )
    got = num_label_issues(
        labels, probs, confident_joint=cj, estimation_method="off_diagonal_custom"
    )
    assert got == expected


@given(case=multilabel_case())
def test_multilabel_num_label_issues(case):
    given_matrix, probs = case
    expected = quiet(
        cleanlab.count.num_label_issues, as_lists(given_matrix), probs, multi_label=True
    )
    got = num_label_issues(given_matrix, probs, multi_label=True)
    assert isinstance(got, int)
    assert got == expected


def test_joint_sums_to_one():
    rng = np.random.default_rng(0)
    given_matrix = rng.random((200, 4)) < 0.4
    probs = np.clip(given_matrix * 0.6 + rng.random((200, 4)) * 0.4, 0, 1)
    joint = estimate_joint(given_matrix, probs, multi_label=True)
    np.testing.assert_allclose(joint.sum(axis=(1, 2)), 1.0)


def test_custom_estimation_needs_a_joint():
    with pytest.raises(InvalidOptionError, match="needs a confident_joint"):
        num_label_issues([0, 1], np.eye(2), estimation_method="off_diagonal_custom")


def test_ignored_joint_warns():
    with pytest.warns(UserWarning, match="ignores confident_joint"):
        num_label_issues([0, 1], np.eye(2), confident_joint=np.eye(2, dtype=int))


@pytest.mark.parametrize(
    ("joint", "match"),
    [
        (np.ones((2, 3)), r"shape \(K, K\)"),
        (-np.ones((2, 2)), "non-negative finite counts"),
        (np.full((2, 2), np.nan), "non-negative finite counts"),
    ],
    ids=["shape", "negative", "nan"],
)
def test_bad_joint(joint, match):
    with pytest.raises(InvalidOptionError, match=match):
        calibrate_confident_joint(joint, [0, 1])


def test_bad_thresholds():
    with pytest.raises(InvalidOptionError, match="thresholds must be 2 finite numbers"):
        compute_confident_joint([0, 1], np.eye(2), thresholds=[0.5])
    with pytest.raises(InvalidOptionError, match=r"shape \(1, 2\) or \(2,\)"):
        compute_confident_joint(
            [[0], [0]], np.eye(2)[:, :1], multi_label=True, thresholds=[1, 2, 3]
        )


def test_nothing_confident_gives_identity_joint():
    labels = np.array([0, 1, 1])
    probs = np.array([[0.6, 0.4], [0.3, 0.7], [0.5, 0.5]])
    got = compute_confident_joint(labels, probs, calibrate=False, thresholds=[2.0, 2.0])
    expected = cleanlab.count.compute_confident_joint(
        labels, probs, calibrate=False, thresholds=[2.0, 2.0]
    )
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got, np.eye(2))
