"""Input validation: each kind of bad input gets a specific error naming the problem."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ls_cleanlab import find_label_issues, label_quality_scores
from ls_cleanlab.errors import InvalidLabelsError, InvalidPredProbsError

GOOD_PROBS = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]])
GOOD_LABELS = np.array([0, 1, 0, 1])


@pytest.mark.parametrize(
    ("probs", "match"),
    [
        (None, "pred_probs is None"),
        (np.array([0.5, 0.5, 0.5, 0.5]), r"must be 2-D with shape \(N, K\), got shape \(4,\)"),
        (np.zeros((4, 2, 1)), "must be 2-D"),
        (np.zeros((0, 2)), "pred_probs is empty"),
        (np.array([["a", "b"]] * 4), "must hold numbers"),
        (np.where(np.eye(4, 2) == 1, np.nan, 0.5), r"NaN or infinite values in rows 0, 1"),
        (np.where(np.eye(4, 2) == 1, np.inf, 0.5), "NaN or infinite"),
        (GOOD_PROBS * 2, r"must lie in \[0, 1\]; rows 0, 1, 2, 3 do not"),
        (GOOD_PROBS - 0.5, r"must lie in \[0, 1\]"),
        (np.full((4, 2), 0.4), r"must sum to 1, but rows 0, 1, 2, 3 do not \(row 0 sums to 0.8\)"),
        (GOOD_PROBS[:3], "labels has 4 entries but pred_probs has 3 rows"),
        (np.ones((4, 1)), "needs at least 2 columns"),
    ],
    ids=[
        "none",
        "1d",
        "3d",
        "empty",
        "strings",
        "nan",
        "inf",
        "above_one",
        "negative",
        "rows_not_summing_to_one",
        "n_mismatch",
        "one_class",
    ],
)
def test_bad_pred_probs(probs, match):
    with pytest.raises((InvalidPredProbsError, InvalidLabelsError), match=match):
        find_label_issues(GOOD_LABELS, probs)


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (None, "labels is None"),
        (
            np.array([0, 1, 2, 1]),
            r"labels must lie in 0..1 .* entries 2 do not \(labels\[2\] = 2\)",
        ),
        (np.array([0, -1, 0, 1]), r"labels\[1\] = -1"),
        (np.array([0.0, 1.5, 0.0, 1.0]), r"must be integer class indices; entries 1 are not"),
        (np.array(["a", "b", "a", "b"]), "map class names to indices first"),
        (np.array([[0, 1], [1, 0], [0, 1], [1, 0]]), "pass multi_label=True"),
        ([0, 1, 0], "labels has 3 entries but pred_probs has 4 rows"),
    ],
    ids=["none", "too_high", "negative", "fractional", "strings", "matrix", "short"],
)
def test_bad_single_labels(labels, match):
    with pytest.raises(InvalidLabelsError, match=match):
        find_label_issues(labels, GOOD_PROBS)


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (
            [[0], [1], [2], []],
            r"must lie in 0..1 \(pred_probs has 2 classes\); labels\[2\] = \[2\]",
        ),
        ([[0], [1], [-1], []], r"labels\[2\] = \[-1\]"),
        ([[0], [1], [0.5], []], r"must be integer class indices; labels\[2\] = \[0.5\]"),
        ([[0], [1], ["a"], []], r"labels\[2\] = \['a'\]"),
        ([[0], 1, [0], []], r"one list of class indices per example; labels\[1\] is 1"),
        ([[0], [1]], "labels has 2 entries but pred_probs has 4 rows"),
        (np.array([[0, 1], [2, 0], [0, 1], [1, 0]]), r"must be 0 or 1; rows 1 are not"),
        (
            np.ones((4, 3), dtype=int),
            r"labels has shape \(4, 3\) but pred_probs has shape \(4, 2\)",
        ),
        (np.array([0, 1, 0, 1]), r"must be an \(N, K\) 0/1 matrix"),
    ],
    ids=[
        "too_high",
        "negative",
        "fractional",
        "string",
        "not_a_list",
        "short",
        "matrix_values",
        "matrix_shape",
        "vector",
    ],
)
def test_bad_multilabels(labels, match):
    with pytest.raises(InvalidLabelsError, match=match):
        find_label_issues(labels, GOOD_PROBS, multi_label=True)


def test_label_formats_agree():
    probs = np.array([[0.9, 0.1, 0.8], [0.2, 0.8, 0.1], [0.7, 0.3, 0.6], [0.1, 0.2, 0.3]])
    matrix = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 0, 0]])
    variants = [
        matrix,
        matrix.astype(bool),
        matrix.astype(float),
        pd.DataFrame(matrix),
        [[0], [1], [0, 2], []],
        [(0,), {1}, np.array([2, 0]), []],
        [[0, 0], [1], [2, 0, 2], []],  # repeats count once
    ]
    expected = label_quality_scores(matrix, probs, multi_label=True)
    for labels in variants:
        np.testing.assert_array_equal(
            label_quality_scores(labels, probs, multi_label=True), expected
        )


def test_single_label_formats_agree():
    expected = label_quality_scores(GOOD_LABELS, GOOD_PROBS)
    for labels in (GOOD_LABELS.tolist(), pd.Series(GOOD_LABELS), GOOD_LABELS.astype(float)):
        np.testing.assert_array_equal(label_quality_scores(labels, GOOD_PROBS), expected)


def test_inputs_are_not_modified():
    probs = GOOD_PROBS.copy()
    labels = [[0], [1], [0], [1]]
    find_label_issues(labels, probs, multi_label=True, return_indices_ranked_by="self_confidence")
    label_quality_scores(labels, probs, multi_label=True, adjust_pred_probs=True)
    np.testing.assert_array_equal(probs, GOOD_PROBS)
    assert labels == [[0], [1], [0], [1]]


def test_float32_and_integer_probabilities_are_accepted():
    probs32 = GOOD_PROBS.astype(np.float32)
    got = label_quality_scores(GOOD_LABELS, probs32)
    np.testing.assert_allclose(got, label_quality_scores(GOOD_LABELS, GOOD_PROBS), atol=1e-7)
    hard = np.eye(2, dtype=int)[[0, 1, 1, 0]]
    assert find_label_issues(GOOD_LABELS, hard).tolist() == [False, False, True, True]


def test_zero_one_rows_written_as_lists_are_refused_as_ambiguous():
    probs = np.full((2, 3), 0.3)
    with pytest.raises(InvalidLabelsError, match="look like a 0/1 matrix written as lists"):
        find_label_issues([[1, 0, 0], [0, 1, 0]], probs, multi_label=True)
    as_object = pd.DataFrame([[1, 0, 0], [0, 1, 0]]).astype(object)
    expected = label_quality_scores(np.array([[1, 0, 0], [0, 1, 0]]), probs, multi_label=True)
    np.testing.assert_array_equal(
        label_quality_scores(as_object, probs, multi_label=True), expected
    )


def test_ragged_nested_labels_name_the_example():
    with pytest.raises(InvalidLabelsError, match=r"labels\[0\] = \[0, \[1\]\]"):
        find_label_issues([[0, [1]], [1], [0]], np.full((3, 2), 0.5), multi_label=True)


def test_errors_without_pred_probs_name_the_confident_joint():
    from ls_cleanlab.confident import calibrate_confident_joint, estimate_latent

    with pytest.raises(InvalidLabelsError, match=r"confident_joint has 2 classes"):
        calibrate_confident_joint(np.eye(2, dtype=int), [0, 1, 2])
    with pytest.raises(InvalidLabelsError, match="one entry per example, got generator"):
        estimate_latent(np.eye(2, dtype=int), (i for i in range(2)))


def test_huge_label_is_shown_as_given():
    labels = np.array([0, 1, 2**64 - 1, 0], dtype=np.uint64)
    with pytest.raises(InvalidLabelsError, match=str(2**64 - 1)):
        find_label_issues(labels, GOOD_PROBS)
