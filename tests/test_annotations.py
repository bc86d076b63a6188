"""Tests of the Annotations table: validation, constructors, views."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.errors import InvalidAnnotationsError


def small() -> Annotations:
    return Annotations(
        task=[0, 0, 1, 2],
        annotator=["ann", "bob", "ann", "cy"],
        labels=[[1, 0, 1], [1, 0, 0], [0, 0, 0], [0, 1, 0]],
        lead_time=[3.0, 4.5, np.nan, 2.0],
        created_at=["2026-01-01T10:00:00Z", "2026-01-01T10:01:00Z", None, "2026-01-02T00:00:00Z"],
    )


def test_arrays_are_normalized_and_read_only() -> None:
    ann = small()
    assert ann.labels.dtype == np.int8 and ann.labels.shape == (4, 3)
    assert ann.task.dtype == np.int64
    assert list(ann.annotator_ids) == ["ann", "bob", "cy"]
    assert list(ann.annotator_index) == [0, 1, 0, 2]
    assert ann.n_annotators == 3 and ann.n_classes == 3 and len(ann) == 4
    assert ann.created_at is not None
    assert ann.created_at[1] - ann.created_at[0] == 60.0
    assert np.isnan(ann.created_at[2])
    with pytest.raises(ValueError):
        ann.labels[0, 0] = 0
    assert not ann.is_single_label


def test_inputs_are_not_mutated() -> None:
    labels = np.array([[1, 0], [0, 1]])
    Annotations(task=[0, 1], annotator=[1, 1], labels=labels)
    labels[0, 0] = 0  # still writeable: the table took a copy or a view it froze itself
    assert labels.flags.writeable


def test_datetime64_and_numbers_agree() -> None:
    stamps = np.array(["2026-01-01T00:00:00", "2026-01-01T00:00:10"], dtype="datetime64[s]")
    a = Annotations(task=[0, 1], annotator=[1, 1], labels=[[1], [0]], created_at=stamps)
    epoch = stamps.astype(np.int64).astype(float)
    b = Annotations(task=[0, 1], annotator=[1, 1], labels=[[1], [0]], created_at=epoch)
    np.testing.assert_array_equal(a.created_at, b.created_at)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"labels": [1, 0]}, "2-D", id="labels-1d"),
        pytest.param({"labels": [[2, 0], [0, 1]]}, "only 0 and 1; rows 0", id="labels-not-binary"),
        pytest.param({"task": [0]}, "one entry per row", id="task-length"),
        pytest.param({"task": [0, -1]}, "negative in rows 1", id="task-negative"),
        pytest.param({"task": [0.5, 1]}, "integer task indices", id="task-float"),
        pytest.param({"annotator": ["a", None]}, "missing in rows 1", id="annotator-none"),
        pytest.param({"annotator": ["a"]}, "one id per row", id="annotator-length"),
        pytest.param(
            {"task": [3, 3], "annotator": ["a", "a"]},
            "annotator 'a' annotated task 3 more than once",
            id="dup",
        ),
        pytest.param({"lead_time": [1.0, -2.0]}, "negative in rows 1", id="lead-negative"),
        pytest.param({"created_at": ["yesterday", "x"]}, "ISO 8601", id="created-garbage"),
        pytest.param({"ground_truth": [True]}, r"shape \(2,\)", id="gt-length"),
    ],
)
def test_bad_input_is_named(kwargs: dict, match: str) -> None:
    base: dict = {"task": [0, 1], "annotator": ["a", "b"], "labels": [[1, 0], [0, 1]]}
    base.update(kwargs)
    with pytest.raises(InvalidAnnotationsError, match=match):
        Annotations(**base)


def test_check_tasks_names_rows_past_the_end() -> None:
    ann = small()
    ann.check_tasks(3)
    with pytest.raises(InvalidAnnotationsError, match=r"rows 3 point past"):
        ann.check_tasks(2)


def test_single_label_round_trip() -> None:
    ann = Annotations.from_class_indices([0, 1, 1], ["a", "a", "b"], np.array([2, 0, 1]), 3)
    assert ann.is_single_label
    np.testing.assert_array_equal(ann.class_indices(), [2, 0, 1])
    with pytest.raises(InvalidAnnotationsError, match=r"\[0, 3\); rows 0"):
        Annotations.from_class_indices([0], ["a"], np.array([3]), 3)
    with pytest.raises(InvalidAnnotationsError, match="multi-label"):
        small().class_indices()


def test_frame_round_trip() -> None:
    ann = small()
    frame = ann.to_frame(["x", "y", "z"])
    assert frame["labels"].tolist() == [["x", "z"], ["x"], [], ["y"]]
    back = Annotations.from_frame(frame, ["x", "y", "z"])
    np.testing.assert_array_equal(back.labels, ann.labels)
    np.testing.assert_array_equal(back.task, ann.task)
    np.testing.assert_array_equal(back.created_at, ann.created_at)
    with pytest.raises(InvalidAnnotationsError, match="label 'w'"):
        Annotations.from_frame(
            pd.DataFrame({"task": [0], "annotator": [1], "labels": [["w"]]}), "xyz"
        )
    with pytest.raises(InvalidAnnotationsError, match="no 'annotator' column"):
        Annotations.from_frame(pd.DataFrame({"task": [0], "labels": [["x"]]}), "xyz")


@pytest.mark.parametrize("cell", [None, float("nan"), 3], ids=["none", "nan", "int"])
def test_a_frame_cell_that_is_not_labels_is_named(cell: object) -> None:
    frame = pd.DataFrame({"task": [0, 1], "annotator": [1, 1], "labels": [["x"], cell]})
    with pytest.raises(InvalidAnnotationsError, match=r"row 1 .* not a class name or a list"):
        Annotations.from_frame(frame, ["x", "y"])
    frame["labels"] = [["x"], np.array(["y"])]  # lists read back from parquet are arrays
    assert Annotations.from_frame(frame, ["x", "y"]).labels.tolist() == [[1, 0], [0, 1]]


def test_from_labels_and_subset() -> None:
    ann = Annotations.from_labels(np.eye(3, dtype=int))
    assert ann.n_annotators == 1 and list(ann.task) == [0, 1, 2]
    sub = small().subset(np.array([True, False, True, False]))
    assert list(sub.annotator) == ["ann", "ann"] and sub.lead_time is not None


def test_latest_per_annotator_keeps_the_latest() -> None:
    keep = Annotations.latest_per_annotator(
        task=[5, 5, 5, 6], annotator=["a", "a", "b", "a"], created_at=[10.0, 20.0, 1.0, np.nan]
    )
    assert list(keep) == [1, 2, 3]
