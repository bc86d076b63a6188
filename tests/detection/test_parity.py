"""ObjectLab scores equal cleanlab 2.9.0's bit for bit, on generated data sets (hypothesis).

cleanlab runs beside ours on the same inputs: box scores (NaN in the same places), image
scores, masks, rankings, per-class thresholds, pooling and ``auxiliary_inputs``.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import cleanlab.object_detection.filter as cl_filter
import cleanlab.object_detection.rank as cl_rank
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import ls_cleanlab.detection as ours
from ls_cleanlab.detection import rank
from ls_cleanlab.detection._average_precision import class_average_precision
from tests.detection.strategies import detection_case

WEIGHTS = st.one_of(
    st.none(),
    st.sampled_from(
        [
            {"overlooked": 1.0, "swap": 0.0, "badloc": 0.0},
            {"overlooked": 0.2, "swap": 0.5, "badloc": 0.3},
            {"overlooked": 0.0, "swap": 0.0, "badloc": 1.0},
        ]
    ),
)
UNIT = st.one_of(st.none(), st.sampled_from([0.0, 0.5, 0.95, 1.0]), st.floats(0, 1))


def quietly(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Call cleanlab without its prints."""
    with contextlib.redirect_stdout(io.StringIO()):
        return func(*args, **kwargs)


def assert_same_lists(expected: list[np.ndarray], actual: list[np.ndarray]) -> None:
    assert len(expected) == len(actual)
    for want, got in zip(expected, actual, strict=True):
        assert want.shape == got.shape
        np.testing.assert_array_equal(got, want)  # NaN where cleanlab has NaN, bit-equal else


@given(case=detection_case(), weights=WEIGHTS, check=st.booleans())
def test_image_scores_equal_cleanlab(case: Any, weights: Any, check: bool) -> None:
    labels, predictions = case
    want = quietly(
        cl_rank.get_label_quality_scores,
        labels,
        predictions,
        aggregation_weights=weights,
        overlapping_label_check=check,
    )
    got = ours.get_label_quality_scores(
        labels, predictions, aggregation_weights=weights, overlapping_label_check=check
    )
    np.testing.assert_array_equal(got, want)
    assert ((got >= 0) & (got <= 1)).all()


@given(case=detection_case(), alpha=UNIT, high=UNIT, low=UNIT, check=st.booleans())
def test_box_scores_equal_cleanlab(case: Any, alpha: Any, high: Any, low: Any, check: bool) -> None:
    labels, predictions = case
    data = {"labels": labels, "predictions": predictions, "alpha": alpha}
    assert_same_lists(
        cl_rank.compute_overlooked_box_scores(**data, high_probability_threshold=high),
        ours.compute_overlooked_box_scores(**data, high_probability_threshold=high),
    )
    assert_same_lists(
        cl_rank.compute_badloc_box_scores(**data, low_probability_threshold=low),
        ours.compute_badloc_box_scores(**data, low_probability_threshold=low),
    )
    assert_same_lists(
        cl_rank.compute_swap_box_scores(
            **data, high_probability_threshold=high, overlapping_label_check=check
        ),
        ours.compute_swap_box_scores(
            **data, high_probability_threshold=high, overlapping_label_check=check
        ),
    )


@given(case=detection_case(), check=st.booleans())
def test_find_label_issues_equals_cleanlab(case: Any, check: bool) -> None:
    labels, predictions = case
    for ranked in (False, True):
        want = quietly(
            cl_filter.find_label_issues,
            labels,
            predictions,
            return_indices_ranked_by_score=ranked,
            overlapping_label_check=check,
        )
        got = ours.find_label_issues(
            labels,
            predictions,
            return_indices_ranked_by_score=ranked,
            overlapping_label_check=check,
        )
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@given(case=detection_case(max_images=8))
def test_class_thresholds_equal_cleanlab(case: Any) -> None:
    labels, predictions = case
    want = cl_filter._get_per_class_ap(labels, predictions)
    data = rank.prepare(labels, predictions, 0.9)
    got = class_average_precision(data.labels, data.preds, data.pairs, data.n_classes)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.array([want[k] for k in range(len(want))]))


@given(case=detection_case(), alpha=UNIT, keep=st.sampled_from(["all", "no_iou", "no_floor"]))
def test_auxiliary_inputs_equal_cleanlab(case: Any, alpha: Any, keep: str) -> None:
    labels, predictions = case
    aux = cl_rank._get_valid_inputs_for_compute_scores(alpha or 0.9, labels, predictions)
    if keep == "no_iou":
        aux = [{**item, "iou_matrix": None} for item in aux]
    elif keep == "no_floor":
        # cleanlab then takes each image's smallest non-zero similarity, and crashes (min of
        # an empty array) on an image whose similarities are all 0; ours uses 1.0 there.
        assume(
            all(
                not item["similarity_matrix"].size or item["similarity_matrix"].any()
                for item in aux
            )
        )
        aux = [{**item, "min_possible_similarity": None} for item in aux]
    for name in ("compute_overlooked_box_scores", "compute_badloc_box_scores"):
        want = getattr(cl_rank, name)(auxiliary_inputs=aux, alpha=alpha)
        assert_same_lists(want, getattr(ours, name)(auxiliary_inputs=aux, alpha=alpha))
    want = cl_rank.compute_swap_box_scores(auxiliary_inputs=aux, overlapping_label_check=False)
    got = ours.compute_swap_box_scores(auxiliary_inputs=aux, overlapping_label_check=False)
    assert_same_lists(want, got)


@given(
    scores=st.lists(
        st.lists(
            st.one_of(st.floats(0, 1), st.just(float("nan")), st.sampled_from([0.0, 0.5])),
            max_size=40,
        ),
        max_size=12,
    ),
    temperature=st.one_of(st.none(), st.sampled_from([0.01, 0.1, 1.0, 5.0])),
)
def test_pooling_equals_cleanlab(scores: list[list[float]], temperature: Any) -> None:
    arrays = [np.array(s, dtype=np.float64) for s in scores]
    want = cl_rank.pool_box_scores_per_image(arrays, temperature=temperature)
    got = ours.pool_box_scores_per_image(arrays, temperature=temperature)
    np.testing.assert_array_equal(got, want)


@given(
    scores=st.lists(st.one_of(st.floats(0, 1), st.sampled_from([0.1, 0.5, 1.0])), max_size=60),
    threshold=st.sampled_from([0.0, 0.1, 0.5, 1.0, -1.0]),
)
def test_issues_from_scores_equals_cleanlab(scores: list[float], threshold: float) -> None:
    array = np.array(scores, dtype=np.float64)
    want = cl_rank.issues_from_scores(array, threshold=threshold)
    np.testing.assert_array_equal(ours.issues_from_scores(array, threshold=threshold), want)


def _image(boxes: list[list[float]], classes: list[int]) -> dict[str, np.ndarray]:
    return {"bboxes": np.array(boxes, dtype=np.float64).reshape(-1, 4), "labels": np.array(classes)}


EDGE_CASES = {
    "no given boxes anywhere": (
        [_image([], []), _image([], [])],
        [[np.array([[0, 0, 5, 5, 0.99]])], [np.zeros((0, 5))]],
    ),
    "no predictions anywhere": (
        [_image([[0, 0, 5, 5]], [0]), _image([], [])],
        [[np.zeros((0, 5)), np.zeros((0, 5))], [np.zeros((0, 5)), np.zeros((0, 5))]],
    ),
    "one image, one class": (
        [_image([[0, 0, 5, 5], [1, 1, 6, 6]], [0, 0])],
        [[np.array([[0, 0, 5, 5, 0.97], [20, 20, 30, 30, 0.99], [1, 1, 6, 6, 0.97]])]],
    ),
    "conflicting annotations": (
        [_image([[0, 0, 5, 5], [0, 0, 5, 5]], [0, 1]), _image([[2, 2, 3, 3]], [1])],
        [[np.array([[0, 0, 5, 5, 0.99]]), np.zeros((0, 5))], [np.zeros((0, 5)), np.zeros((0, 5))]],
    ),
    "tied confidences on one box": (
        [_image([[0, 0, 10, 10]], [0]), _image([[0, 0, 10, 10]], [0])],
        [
            [np.array([[0, 0, 10, 10, 0.9], [0, 0, 9, 10, 0.9], [1, 0, 10, 10, 0.9]])],
            [np.array([[0, 0, 10, 10, 0.9], [50, 50, 60, 60, 0.9]])],
        ],
    ),
    "far apart (similarity 0)": (
        [_image([[0, 0, 1, 1]], [0])],
        [[np.array([[9000, 9000, 9001, 9001, 0.99]])]],
    ),
}


@pytest.mark.parametrize("case", list(EDGE_CASES.values()), ids=list(EDGE_CASES))
def test_edge_cases_equal_cleanlab(case: Any) -> None:
    labels, predictions = case
    np.testing.assert_array_equal(
        ours.get_label_quality_scores(labels, predictions),
        quietly(cl_rank.get_label_quality_scores, labels, predictions),
    )
    for ranked in (False, True):
        np.testing.assert_array_equal(
            ours.find_label_issues(labels, predictions, return_indices_ranked_by_score=ranked),
            quietly(
                cl_filter.find_label_issues,
                labels,
                predictions,
                return_indices_ranked_by_score=ranked,
            ),
        )
