"""RectangleLabels configs, box annotations and box predictions, without a Label Studio."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from label_studio_sdk.label_interface import LabelInterface

from ls_cleanlab.errors import InvalidTasksError, LabelConfigError
from ls_cleanlab.studio import (
    Box,
    box_prediction_json,
    check_box_prediction,
    check_prediction,
    infer_schema,
    parse_label_config,
    read_boxes,
    read_tasks,
)

CONFIG = (
    '<View><Image name="img" value="$picture"/>'
    '<RectangleLabels name="label" toName="img">'
    '<Label value="Airplane" alias="plane"/><Label value="car"/></RectangleLabels></View>'
)
SIZE = {"original_width": 200, "original_height": 100}


def rect(x: float, y: float, w: float, h: float, label: Any = "car", **extra: Any) -> dict:
    value = {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": [label]}
    value.update(extra.pop("value", {}))
    return {"from_name": "label", "to_name": "img", "type": "rectanglelabels", **SIZE,
            "value": value, **extra}  # fmt: skip


def task(task_id: int, *annotations: dict, **data: Any) -> dict:
    return {"id": task_id, "data": {"picture": f"/data/upload/1/{task_id}.png", **data},
            "annotations": list(annotations)}  # fmt: skip


def annotation(user: int, *results: dict, **extra: Any) -> dict:
    return {"id": 100 * user + len(results), "completed_by": user, "result": list(results),
            "created_at": "2026-11-02T09:00:00Z", **extra}  # fmt: skip


def test_rectangle_labels_make_a_box_schema_with_aliases() -> None:
    schema = parse_label_config(CONFIG)
    assert (schema.kind, schema.from_name, schema.to_name) == ("boxes", "label", "img")
    assert (schema.object_tag, schema.data_key, schema.classes) == ("Image", "picture",
                                                                    ("plane", "car"))  # fmt: skip
    assert not schema.multi_label


def test_choices_come_first_unless_a_rectangle_tag_is_named() -> None:
    both = CONFIG.replace(
        "</View>",
        '<Choices name="quality" toName="img"><Choice value="ok"/><Choice value="bad"/></Choices>'
        "</View>",
    )
    assert parse_label_config(both).kind == "classification"
    assert parse_label_config(both, "label").kind == "boxes"


@pytest.mark.parametrize(
    "config, match",
    [
        (CONFIG.replace('<Label value="Airplane" alias="plane"/><Label value="car"/>', ""),
         "has no <Label> tags"),
        (CONFIG.replace('toName="img"', 'toName="img,other"').replace(
            "</View>", '<Image name="other" value="$b"/></View>'), "labels 2 objects"),
        ('<View><Text name="img" value="$t"/><RectangleLabels name="label" toName="img">'
         '<Label value="a"/></RectangleLabels></View>', "boxes are audited on Image"),
        (CONFIG.replace('value="$picture"', 'value="static.png"'), "must read a task data field"),
        (CONFIG.replace('toName="img"', 'toName="nowhere"'), "not an object tag"),
    ],
    ids=["no-labels", "two-objects", "text-object", "static-image", "missing-object"],
)  # fmt: skip
def test_bad_rectangle_configs_are_refused(config: str, match: str) -> None:
    with pytest.raises(LabelConfigError, match=match):
        parse_label_config(config)


def test_read_boxes_per_annotator_in_percent() -> None:
    schema = parse_label_config(CONFIG)
    tasks = [
        task(1, annotation(7, rect(10, 20, 30, 40, "plane"), rect(50, 50, 10, 10)),
             annotation(8, rect(11, 21, 30, 40, "plane"))),
        task(2, annotation(7), annotation(9, rect(0, 0, 5, 5), was_cancelled=True)),
        task(3),
    ]  # fmt: skip
    table = read_boxes(tasks, schema)
    ann = table.annotations
    assert table.task_ids.tolist() == [1, 2, 3]
    np.testing.assert_allclose(ann.boxes[0], [10, 20, 40, 60])
    assert ann.labels.tolist() == [0, 1, 0] and ann.annotator.tolist() == [7, 7, 8]
    # annotator 7 saw task 2 and drew nothing (evidence); the cancelled annotation is not seen
    assert ann.seen.tolist() == [[True, True], [True, False], [False, False]]
    np.testing.assert_allclose(table.sizes, [[200, 100], [np.nan, np.nan], [np.nan, np.nan]])
    assert (table.report.n_boxes, table.report.skipped, table.report.n_bad) == (3, 1, 0)


def test_the_latest_annotation_of_an_annotator_counts() -> None:
    schema = parse_label_config(CONFIG)
    old = annotation(7, rect(1, 1, 5, 5), updated_at="2026-11-02T09:00:00Z")
    new = annotation(7, rect(50, 50, 5, 5), rect(60, 60, 5, 5), updated_at="2026-11-03T09:00:00Z")
    table = read_boxes([task(1, old, new)], schema)
    assert table.report.duplicates_dropped == 1 and table.report.n_boxes == 2
    assert table.annotations.boxes[:, 0].tolist() == [50, 60]


@pytest.mark.parametrize(
    "result, reason",
    [
        (rect(10, 10, 0, 5), "zero area"),
        (rect(120, 10, 5, 5), "outside the image"),
        (rect(10, 10, 5, 5, "submarine"), "unknown class"),
        (rect(10, 10, 5, 5, value={"rectanglelabels": []}), "no class"),
        (rect(10, 10, 5, 5, value={"rectanglelabels": ["car", "plane"]}), "several classes"),
        (rect(10, 10, 5, 5, value={"rotation": 30}), "rotated (not a multiple of 90 degrees)"),
        (rect(10, 10, 5, 5, value={"x": "ten"}), "malformed value"),
        ({**rect(10, 10, 5, 5, value={"rotation": 90}), "original_width": None},
         "rotated, without the image size"),
    ],
    ids=["zero-area", "outside", "unknown", "no-class", "two-classes", "rotated", "malformed",
         "rotated-no-size"],
)  # fmt: skip
def test_bad_boxes_are_left_out_and_counted(result: dict, reason: str) -> None:
    schema = parse_label_config(CONFIG)
    table = read_boxes([task(1, annotation(7, result, rect(1, 1, 5, 5)))], schema)
    assert dict(table.report.bad_boxes) == {reason: 1}
    assert table.report.n_boxes == 1  # the good box stays
    assert table.annotations.seen.all()


def test_right_angles_become_axis_aligned_boxes_and_overhangs_are_clipped() -> None:
    schema = parse_label_config(CONFIG)
    # 90 degrees clockwise about (x, y) = (100, 50) px: 20x10 px becomes 10x20 px to the left
    turned = rect(50, 50, 10, 10, value={"rotation": 90})
    over = rect(95, 95, 10, 10)
    table = read_boxes([task(1, annotation(7, turned, over))], schema)
    np.testing.assert_allclose(table.annotations.boxes[0], [45, 50, 50, 70])
    np.testing.assert_allclose(table.annotations.boxes[1], [95, 95, 100, 100])
    assert table.report.clipped == 1


def test_annotations_of_deleted_users_are_counted_and_left_out() -> None:
    deleted = {**annotation(7, rect(10, 10, 20, 20)), "completed_by": None}
    table = read_boxes([task(1, deleted, annotation(8, rect(50, 50, 10, 10)))],
                       parse_label_config(CONFIG))  # fmt: skip
    assert table.annotations.annotator.tolist() == [8]
    assert (table.report.no_annotator, table.report.n_annotations) == (1, 1)


@pytest.mark.parametrize(
    "tasks, match",
    [
        ([{"id": "x", "data": {}}], "no integer 'id'"),
        ([task(1), task(1)], "appears twice"),
        ([{"id": 1, "data": None}], "no 'data' object"),
        ([task(1, {"result": []})], "completed_by"),
        ([task(1, annotation(7, "box"))], "not an object"),
    ],
    ids=["id", "twice", "data", "user", "item"],
)
def test_malformed_tasks_are_refused(tasks: list, match: str) -> None:
    with pytest.raises(InvalidTasksError, match=match):
        read_boxes(tasks, parse_label_config(CONFIG))


def test_each_reader_refuses_the_other_kind() -> None:
    schema = parse_label_config(CONFIG)
    with pytest.raises(InvalidTasksError, match="classification"):
        read_tasks([task(1)], schema)
    choices = parse_label_config(
        '<View><Image name="i" value="$i"/><Choices name="c" toName="i"><Choice value="a"/>'
        "</Choices></View>"
    )
    with pytest.raises(InvalidTasksError, match="RectangleLabels"):
        read_boxes([task(1)], choices)


def test_box_predictions_pass_our_check_and_the_sdks() -> None:
    schema = parse_label_config(CONFIG)
    made = box_prediction_json(
        schema, 3, [Box(10, 20, 30.5, 40, "plane", 0.9, {"queues": ["lscl:box-missing"]}),
                    Box.of([-1, 0, 101, 100], "car", 1.2)],
        score=0.4, model_version="v", size=(200, 100),
    )  # fmt: skip
    assert made["result"][0]["value"] == {"x": 10, "y": 20, "width": 20.5, "height": 20,
                                          "rotation": 0, "rectanglelabels": ["plane"]}  # fmt: skip
    assert made["result"][1]["value"]["x"] == 0 and made["result"][1]["score"] == 1.0
    assert made["result"][0]["meta"] == {"queues": ["lscl:box-missing"]}
    assert check_prediction(schema, made) == []
    assert LabelInterface(CONFIG).validate_prediction(made, True) == []


@pytest.mark.parametrize(
    "change, match",
    [
        ({"score": 1.5}, "'score' must be a number in \\[0, 1\\]"),
        ({"task": "1"}, "'task' must be an integer"),
        ({"model_version": ""}, "model_version"),
        ({"result": "x"}, "'result' must be a list"),
        ({"result": [{**rect(1, 1, 5, 5), "from_name": "other"}]}, "is not the 'label' tag"),
        ({"result": [{**rect(1, 1, 5, 5), "type": "choices"}]}, "type 'rectanglelabels'"),
        ({"result": [rect(1, 1, 5, 5, "boat")]}, "class 'boat' is not a label"),
        ({"result": [rect(99, 1, 5, 5)]}, "inside the image"),
        ({"result": [rect(1, 1, -5, 5)]}, "must be positive"),
        ({"result": [rect(1, 1, 5, 5, score=2)]}, "score must be a number"),
        ({"result": [rect(1, 1, 5, 5, value={"rectanglelabels": []})]}, "exactly one class"),
    ],
    ids=["score", "task", "version", "result", "from-name", "type", "class", "outside",
         "negative", "box-score", "no-class"],
)  # fmt: skip
def test_invalid_box_predictions_are_explained(change: dict, match: str) -> None:
    schema = parse_label_config(CONFIG)
    prediction = {"task": 1, "result": [rect(1, 1, 5, 5)], "score": 0.5, "model_version": "v",
                  **change}  # fmt: skip
    problems = check_box_prediction(schema, prediction)
    assert any(__import__("re").search(match, p) for p in problems), problems


def test_a_box_export_infers_a_box_schema() -> None:
    tasks = [task(1, annotation(7, rect(1, 1, 5, 5, "plane"), rect(9, 9, 5, 5, "car")))]
    schema = infer_schema(tasks)
    assert (schema.kind, schema.from_name, schema.data_key) == ("boxes", "label", "picture")
    assert schema.classes == ("car", "plane")
    with pytest.raises(LabelConfigError, match="RectangleLabels tag"):
        infer_schema(tasks, "other")
