"""Bad inputs to the cleanlab-compatible functions raise our errors, naming image and field."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ls_cleanlab.detection as ours
from ls_cleanlab.errors import InvalidLabelsError, InvalidOptionError, InvalidPredProbsError


def good() -> tuple[list[dict[str, Any]], list[list[np.ndarray]]]:
    labels = [
        {"bboxes": np.array([[0.0, 0, 5, 5]]), "labels": np.array([0])},
        {"bboxes": np.array([[1.0, 1, 4, 4], [2, 2, 8, 8]]), "labels": np.array([1, 0])},
    ]
    predictions = [
        [np.array([[0.0, 0, 5, 5, 0.9]]), np.zeros((0, 5))],
        [np.array([[2.0, 2, 8, 8, 0.99]]), np.array([[1.0, 1, 4, 4, 0.6]])],
    ]
    return labels, predictions


def with_label(index: int, **fields: Any) -> list[dict[str, Any]]:
    labels, _ = good()
    labels[index] = {**labels[index], **fields}
    return labels


def with_prediction(index: int, k: int, value: Any) -> list[Any]:
    _, predictions = good()
    predictions[index] = list(predictions[index])
    predictions[index][k] = value
    return predictions


BAD_LABELS = {
    "not a list": ({"bboxes": [], "labels": []}, InvalidLabelsError, "list with one entry"),
    "not a dict": ([np.zeros((1, 4)), {}], InvalidLabelsError, r"labels\[0\] must be a dict"),
    "missing key": ([{"bboxes": np.zeros((0, 4))}, {}], InvalidLabelsError, "'labels'"),
    "bboxes shape": (
        with_label(1, bboxes=np.zeros((2, 5))),
        InvalidLabelsError,
        r"labels\[1\]\['bboxes'\] has shape \(2, 5\)",
    ),
    "labels length": (
        with_label(1, labels=np.array([0])),
        InvalidLabelsError,
        r"labels\[1\]\['labels'\] has shape \(1,\); expected \(2,\)",
    ),
    "fractional class": (
        with_label(0, labels=np.array([0.5])),
        InvalidLabelsError,
        r"labels\[0\]\['labels'\] must hold integer",
    ),
    "class out of range": (
        with_label(1, labels=np.array([1, 2])),
        InvalidLabelsError,
        r"labels\[1\]\['labels'\] row 1 is 2, but the predictions have 2 classes",
    ),
    "negative class": (with_label(0, labels=np.array([-1])), InvalidLabelsError, r"\[0, 2\)"),
    "NaN coordinate": (
        with_label(1, bboxes=np.array([[1.0, 1, 4, 4], [2, np.nan, 8, 8]])),
        InvalidLabelsError,
        r"labels\[1\]\['bboxes'\] row 1 has a NaN",
    ),
    "x2 < x1 (xywh?)": (
        with_label(0, bboxes=np.array([[10.0, 0, 5, 5]])),
        InvalidLabelsError,
        r"labels\[0\]\['bboxes'\] row 0 .* x, y, width, height",
    ),
    "text boxes": (
        with_label(0, bboxes=np.array([["a", "b", "c", "d"]])),
        InvalidLabelsError,
        "must hold numbers",
    ),
}


@pytest.mark.parametrize(
    ("labels", "error", "match"), list(BAD_LABELS.values()), ids=list(BAD_LABELS)
)
def test_bad_labels(labels: Any, error: type[Exception], match: str) -> None:
    _, predictions = good()
    if not isinstance(labels, list):
        predictions = predictions[:1]
    with pytest.raises(error, match=match):
        ours.get_label_quality_scores(labels, predictions)
    with pytest.raises(error, match=match):
        ours.find_label_issues(labels, predictions)


BAD_PREDICTIONS = {
    "one image short": (good()[1][:1], InvalidLabelsError, "2 labels and 1 predictions"),
    "class array shape": (
        with_prediction(1, 0, np.zeros((2, 4))),
        InvalidPredProbsError,
        r"predictions\[1\]\[0\] has shape \(2, 4\); expected \(M, 5\)",
    ),
    "flat empty array": (
        with_prediction(0, 1, np.zeros(0)),
        InvalidPredProbsError,
        r"predictions\[0\]\[1\] has shape \(0,\)",
    ),
    "fewer classes": (
        [good()[1][0], good()[1][1][:1]],
        InvalidPredProbsError,
        r"predictions\[1\] has 1 class arrays but predictions\[0\] has 2",
    ),
    "confidence above 1": (
        with_prediction(1, 1, np.array([[1.0, 1, 4, 4, 1.5]])),
        InvalidPredProbsError,
        r"predictions\[1\]\[1\] row 0 has confidence 1.5",
    ),
    "NaN confidence": (
        with_prediction(0, 0, np.array([[1.0, 1, 4, 4, np.nan]])),
        InvalidPredProbsError,
        r"predictions\[0\]\[0\] row 0 has confidence nan",
    ),
    "inverted box": (
        with_prediction(1, 1, np.array([[1.0, 9, 4, 4, 0.5]])),
        InvalidPredProbsError,
        r"predictions\[1\]\[1\] row 0 is",
    ),
    "not a list": ("boxes", InvalidPredProbsError, "list with one entry"),
}


@pytest.mark.parametrize(
    ("predictions", "error", "match"), list(BAD_PREDICTIONS.values()), ids=list(BAD_PREDICTIONS)
)
def test_bad_predictions(predictions: Any, error: type[Exception], match: str) -> None:
    labels, _ = good()
    with pytest.raises(error, match=match):
        ours.get_label_quality_scores(labels, predictions)
    with pytest.raises(error, match=match):
        ours.compute_overlooked_box_scores(labels=labels, predictions=predictions)


BAD_OPTIONS = {
    "weights missing a key": (
        lambda lab, p: ours.get_label_quality_scores(lab, p, aggregation_weights={"swap": 1.0}),
        "keys 'overlooked', 'swap' and 'badloc'",
    ),
    "weights not summing to 1": (
        lambda lab, p: ours.get_label_quality_scores(
            lab, p, aggregation_weights={"overlooked": 0.5, "swap": 0.5, "badloc": 0.5}
        ),
        "summing to 1",
    ),
    "negative weight": (
        lambda lab, p: ours.get_label_quality_scores(
            lab, p, aggregation_weights={"overlooked": 1.5, "swap": -0.5, "badloc": 0.0}
        ),
        "non-negative",
    ),
    "alpha above 1": (
        lambda lab, p: ours.compute_badloc_box_scores(labels=lab, predictions=p, alpha=2),
        "alpha must be a number in",
    ),
    "threshold not a number": (
        lambda lab, p: ours.compute_swap_box_scores(
            labels=lab, predictions=p, high_probability_threshold="high"
        ),
        "high_probability_threshold must be a number",
    ),
    "neither inputs": (
        lambda lab, p: ours.compute_swap_box_scores(),
        "pass labels and predictions",
    ),
    "bad auxiliary dict": (
        lambda lab, p: ours.compute_swap_box_scores(auxiliary_inputs=[{"lab_bboxes": []}]),
        r"auxiliary_inputs\[0\] must be a dict with keys",
    ),
    "issue threshold above 1": (
        lambda lab, p: ours.issues_from_scores(np.array([0.5]), threshold=1.5),
        "at most 1",
    ),
    "scores not 1-D": (
        lambda lab, p: ours.issues_from_scores(np.zeros((2, 2))),
        "1-D array",
    ),
    "temperature zero": (
        lambda lab, p: ours.pool_box_scores_per_image([np.array([0.5])], temperature=0),
        "temperature must be a positive number",
    ),
}


@pytest.mark.parametrize(("call", "match"), list(BAD_OPTIONS.values()), ids=list(BAD_OPTIONS))
def test_bad_options(call: Any, match: str) -> None:
    labels, predictions = good()
    with pytest.raises(InvalidOptionError, match=match):
        call(labels, predictions)


def test_errors_are_value_errors_for_cleanlab_callers() -> None:
    labels, _ = good()
    with pytest.raises(ValueError):
        ours.get_label_quality_scores(labels, with_prediction(1, 1, np.zeros((1, 3))))


def test_empty_data_set_gives_empty_results() -> None:
    assert ours.get_label_quality_scores([], []).shape == (0,)
    assert ours.find_label_issues([], []).shape == (0,)
    assert ours.compute_overlooked_box_scores(labels=[], predictions=[]) == []


def test_inputs_are_not_modified() -> None:
    labels, predictions = good()
    before = [p.copy() for row in predictions for p in row]
    ours.find_label_issues(labels, predictions, return_indices_ranked_by_score=True)
    for want, got in zip(before, [p for row in predictions for p in row], strict=True):
        np.testing.assert_array_equal(got, want)


def test_integer_and_float32_boxes_are_accepted() -> None:
    labels, predictions = good()
    as_int = [{**item, "bboxes": item["bboxes"].astype(int)} for item in labels]
    np.testing.assert_array_equal(
        ours.get_label_quality_scores(as_int, predictions),
        ours.get_label_quality_scores(labels, predictions),
    )
    as_f32 = [[p.astype(np.float32) for p in row] for row in predictions]
    np.testing.assert_allclose(
        ours.get_label_quality_scores(labels, as_f32),
        ours.get_label_quality_scores(labels, predictions),
        rtol=1e-6,
    )
