"""Matching boxes across annotators and to a detector."""

from __future__ import annotations

import numpy as np

from ls_cleanlab.detection import BoxAnnotations
from ls_cleanlab.detection.matching import match_annotators, match_detector


def annotations(rows: list[tuple[int, str, list[float], int]]) -> BoxAnnotations:
    return BoxAnnotations(
        image=np.array([r[0] for r in rows]),
        annotator=np.array([r[1] for r in rows]),
        boxes=np.array([r[2] for r in rows], dtype=float),
        labels=np.array([r[3] for r in rows]),
    )


def same_cluster(clusters: np.ndarray, *rows: int) -> bool:
    return len({int(clusters[r]) for r in rows}) == 1


def test_identical_boxes_of_three_annotators_form_one_object_each() -> None:
    boxes = [[0, 0, 10, 10], [20, 20, 30, 30]]
    rows = [(0, who, b, 0) for who in "abc" for b in boxes]
    got = match_annotators(annotations(rows)).cluster
    assert same_cluster(got, 0, 2, 4) and same_cluster(got, 1, 3, 5)
    assert got[0] != got[1]


def test_one_box_per_annotator_and_object() -> None:
    rows = [(0, "a", [0, 0, 10, 10], 0), (0, "a", [0, 0, 10, 9], 0), (0, "b", [0, 0, 10, 10], 0)]
    got = match_annotators(annotations(rows)).cluster
    assert got[0] != got[1]
    assert same_cluster(got, 0, 2)  # the better overlap wins


def test_complete_linkage_does_not_chain() -> None:
    # a~b and b~c overlap enough, a and c do not: not one object.
    rows = [(0, "a", [0, 0, 10, 10], 0), (0, "b", [3, 0, 13, 10], 0), (0, "c", [6, 0, 16, 10], 0)]
    got = match_annotators(annotations(rows), loose_iou=0.5).cluster
    assert not same_cluster(got, 0, 1, 2)


def test_same_class_pairs_are_preferred() -> None:
    rows = [
        (0, "a", [0, 0, 10, 10], 0),
        (0, "b", [0, 0, 10, 10], 1),  # IoU 1, other class
        (0, "b", [0, 0, 10, 7], 0),  # IoU 0.7, same class
    ]
    got = match_annotators(annotations(rows)).cluster
    assert same_cluster(got, 0, 2) and got[1] != got[0]


def test_a_badly_placed_box_joins_loosely() -> None:
    rows = [
        (0, "a", [0, 0, 10, 10], 0),
        (0, "b", [0, 0, 10, 10], 0),
        (0, "c", [3, 3, 13, 13], 0),
    ]  # IoU 0.32
    found = match_annotators(annotations(rows))
    assert same_cluster(found.cluster, 0, 1, 2)
    np.testing.assert_array_equal(found.loose, [False, False, True])


def test_boxes_of_different_images_never_match() -> None:
    rows = [(0, "a", [0, 0, 10, 10], 0), (1, "b", [0, 0, 10, 10], 0)]
    found = match_annotators(annotations(rows))
    assert found.cluster[0] != found.cluster[1]
    np.testing.assert_array_equal(found.image, [0, 1])


def test_detector_boxes_attach_to_objects_or_stand_alone() -> None:
    medians = np.array([[0.0, 0, 10, 10]])
    preds = np.array(
        [[0, 0, 10, 10], [0, 0, 10, 9], [50, 50, 60, 60], [50, 50, 60, 61], [90, 90, 95, 95]], float
    )
    conf = np.array([0.6, 0.9, 0.8, 0.7, 0.01])
    found = match_detector(medians, np.array([0]), preds, np.zeros(5, int), conf, 1)
    np.testing.assert_array_equal(found.cluster_pred, [1])  # the most confident overlapping box
    np.testing.assert_array_equal(found.unmatched, [2])  # 3 suppressed, 4 below min_confidence
