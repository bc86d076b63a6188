"""The data set summaries of ls_cleanlab.detection equal cleanlab 2.9.0's
cleanlab.object_detection.summary (counts, sizes, class shares, per-class confusion counts and
metrics), images without boxes and classes nobody used included; bad input."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from cleanlab.object_detection import summary as cl
from hypothesis import given, settings
from hypothesis import strategies as st

from ls_cleanlab.detection import summary as ours
from ls_cleanlab.errors import InvalidLabelsError, InvalidOptionError, InvalidPredProbsError
from tests.detection.strategies import detection_case


def assert_same(expected: Any, got: Any) -> None:
    """Equal values, keys in the same order, NaN where cleanlab has NaN, same numpy scalar
    types for the averaged counts."""
    if isinstance(expected, dict):
        assert list(got) == list(expected)
        for key in expected:
            assert_same(expected[key], got[key])
    elif isinstance(expected, (list, tuple)):
        assert len(got) == len(expected)
        for want, have in zip(expected, got, strict=True):
            assert_same(want, have)
    else:
        assert type(got) is type(expected)
        np.testing.assert_array_equal(got, expected)


def names_for(k: int, draw_names: bool) -> dict[str, str] | None:
    return {str(i): f"class-{i}" for i in range(k)} if draw_names else None


@given(case=detection_case(), named=st.booleans(), sort=st.booleans())
def test_counts_sizes_and_shares_equal_cleanlab(case: Any, named: bool, sort: bool) -> None:
    labels, predictions = case
    names = names_for(len(predictions[0]), named)
    assert_same(
        cl.object_counts_per_image(labels, predictions),
        ours.object_counts_per_image(labels, predictions),
    )
    assert_same(
        cl.get_sorted_bbox_count_idxs(labels, predictions),
        ours.get_sorted_bbox_count_idxs(labels, predictions),
    )
    assert_same(
        cl.bounding_box_size_distribution(labels, predictions, class_names=names, sort=sort),
        ours.bounding_box_size_distribution(labels, predictions, class_names=names, sort=sort),
    )
    assert_same(
        cl.class_label_distribution(labels, predictions, class_names=names),
        ours.class_label_distribution(labels, predictions, class_names=names),
    )


@settings(max_examples=12, deadline=None)  # cleanlab starts a process pool per threshold
@given(case=detection_case(max_images=5, max_boxes=4), named=st.booleans())
def test_confusion_counts_and_metrics_equal_cleanlab(case: Any, named: bool) -> None:
    labels, predictions = case
    names = names_for(len(predictions[0]), named)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # cleanlab's 0 / 0
        expected = cl.calculate_per_class_metrics(labels, predictions, class_names=names)
        confusion = cl.get_average_per_class_confusion_matrix(
            labels, predictions, class_names=names
        )
    assert_same(
        confusion,
        ours.get_average_per_class_confusion_matrix(labels, predictions, class_names=names),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and ours says nothing
        assert_same(
            expected, ours.calculate_per_class_metrics(labels, predictions, class_names=names)
        )


def box(x: float, y: float, side: float = 2.0) -> list[float]:
    return [x, y, x + side, y + side]


def test_edge_cases_equal_cleanlab() -> None:
    # an image without boxes, one without predictions, a class nobody drew or predicted,
    # float32 boxes (areas in float32, as cleanlab's), two names for one class
    labels = [
        {"bboxes": np.zeros((0, 4)), "labels": np.zeros(0, dtype=int)},
        {
            "bboxes": np.array([box(0, 0), box(5, 5, 3)], dtype=np.float32),
            "labels": np.array([0, 1]),
        },
        {"bboxes": np.array([box(1, 1)]), "labels": np.array([1])},
    ]
    empty = np.zeros((0, 5))
    predictions = [
        [empty, empty, empty],
        [
            np.array([[*box(0, 0), 0.9], [*box(0.5, 0), 0.8]]),
            np.array([[*box(5, 5, 3), 0.7]]),
            empty,
        ],
        [empty, empty, empty],
    ]
    names = {"0": "cat", "1": "dog", "2": "cat"}
    for function in (cl.object_counts_per_image, cl.get_sorted_bbox_count_idxs):
        assert_same(
            function(labels, predictions), getattr(ours, function.__name__)(labels, predictions)
        )
    for kwargs in ({}, {"class_names": names}):
        for name in ("bounding_box_size_distribution", "class_label_distribution"):
            assert_same(
                getattr(cl, name)(labels, predictions, **kwargs),
                getattr(ours, name)(labels, predictions, **kwargs),
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = cl.calculate_per_class_metrics(labels, predictions, **kwargs)
        got = ours.calculate_per_class_metrics(labels, predictions, **kwargs)
        assert_same(expected, got)
    sizes, _ = ours.bounding_box_size_distribution(labels, predictions)
    assert type(sizes[0][0]) is np.float32
    plain = ours.calculate_per_class_metrics(labels, predictions)
    # class 2, neither drawn nor predicted: 0 / 0 everywhere
    assert all(np.isnan(value) for value in plain[2].values())
    assert plain[0]["average recall"] > 0


ONE = [{"bboxes": np.array([box(0, 0)]), "labels": np.array([0])}]
PRED = [[np.array([[*box(0, 0), 0.9]])]]

ERRORS = {
    "no-predictions": (ours.object_counts_per_image, (ONE, None), {}, InvalidOptionError, "both"),
    "images-differ": (
        ours.class_label_distribution,
        (ONE * 2, PRED),
        {},
        InvalidLabelsError,
        "same images",
    ),
    "bad-prediction-shape": (
        ours.object_counts_per_image,
        (ONE, [[np.zeros((1, 4))]]),
        {},
        InvalidPredProbsError,
        r"predictions\[0\]\[0\] has shape",
    ),
    "class-beyond-predictions": (
        ours.get_average_per_class_confusion_matrix,
        ([{"bboxes": np.array([box(0, 0)]), "labels": np.array([3])}], PRED),
        {},
        InvalidLabelsError,
        "1 classes",
    ),
    "too-few-names": (
        ours.calculate_per_class_metrics,
        (ONE, [[np.zeros((0, 5)), np.zeros((0, 5))]]),
        {"class_names": {"0": "cat"}},
        InvalidOptionError,
        "1 names but the predictions have 2",
    ),
    "unnamed-class": (
        ours.class_label_distribution,
        (ONE, PRED),
        {"class_names": {"1": "dog"}},
        InvalidLabelsError,
        "class 0 has no name",
    ),
}


@pytest.mark.parametrize(
    ("function", "args", "kwargs", "error", "match"), ERRORS.values(), ids=ERRORS.keys()
)
def test_summaries_reject_bad_input(
    function: Any, args: tuple[Any, ...], kwargs: dict[str, Any], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        function(*args, **kwargs)
