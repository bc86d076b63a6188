"""read_tasks and the prediction JSON, without a server: every rule and every error path."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from ls_cleanlab import parse_label_config, read_tasks
from ls_cleanlab.errors import InvalidTasksError, LabelConfigError
from ls_cleanlab.studio import (
    check_prediction,
    prediction_json,
    predictions_json,
    task_from_webhook,
)

MULTI = parse_label_config(
    '<View><Image name="image" value="$image"/><Choices name="tags" toName="image" '
    'choice="multiple"><Choice value="Cat" alias="cat"/><Choice value="dog"/>'
    '<Choice value="bird"/></Choices></View>'
)
SINGLE = parse_label_config(
    '<View><Text name="text" value="$text"/><Choices name="mood" toName="text">'
    '<Choice value="pos"/><Choice value="neg"/></Choices></View>'
)


def result(*choices: str, name: str = "tags", to: str = "image") -> dict[str, Any]:
    return {
        "from_name": name,
        "to_name": to,
        "type": "choices",
        "value": {"choices": list(choices)},
    }


def annotation(user: Any, *results: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "id": fields.pop("id", 1),
        "completed_by": user,
        "result": list(results),
        "created_at": fields.pop("created_at", "2025-01-01T00:00:00Z"),
        **fields,
    }


def task(task_id: int, *annotations: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "id": task_id,
        "data": {"image": f"{task_id}.png"},
        "annotations": list(annotations),
        **fields,
    }


def rows(table: Any, schema: Any = MULTI) -> list[tuple[int, int, tuple[str, ...]]]:
    ann = table.annotations
    return [
        (int(t), int(a), tuple(schema.classes[k] for k in np.flatnonzero(row)))
        for t, a, row in zip(ann.task, ann.annotator, ann.labels, strict=True)
    ]


def test_reads_ids_data_and_annotations() -> None:
    tasks = [
        task(10, annotation(1, result("cat", "dog"), lead_time=2.5), annotation(2, result("bird"))),
        task(7),
        task(12, annotation({"id": 3, "email": "c@x"}, result("dog"), ground_truth=True)),
    ]
    table = read_tasks(tasks, MULTI)
    assert table.task_ids.tolist() == [10, 7, 12]
    assert table.task_ids.dtype == np.int64
    assert [d["image"] for d in table.data] == ["10.png", "7.png", "12.png"]
    assert rows(table) == [(0, 1, ("cat", "dog")), (0, 2, ("bird",)), (2, 3, ("dog",))]
    lead = table.annotations.lead_time
    assert lead is not None and lead[0] == 2.5 and np.isnan(lead[1:]).all()
    assert table.annotations.ground_truth is not None
    assert table.annotations.ground_truth.tolist() == [False, False, True]
    assert table.report.ground_truth == 1
    assert table.report.n_tasks == 3 and table.report.n_annotations == 3
    assert table.report.clean


def test_data_is_copied_not_shared() -> None:
    tasks = [task(1)]
    table = read_tasks(tasks, MULTI)
    table.data[0]["image"] = "changed"
    assert tasks[0]["data"]["image"] == "1.png"


def test_no_result_for_the_tag_is_an_empty_set_in_multi_label() -> None:
    other = result("x", name="comment", to="image")
    tasks = [task(1, annotation(1), annotation(2, other), annotation(3, result()))]
    table = read_tasks(tasks, replace(MULTI, others=("Choices 'comment'",)))
    assert rows(table) == [(0, 1, ()), (0, 2, ()), (0, 3, ())]


def test_single_label_without_one_choice_is_left_out() -> None:
    mood = {"name": "mood", "to": "text"}
    tasks = [
        task(
            1,
            annotation(1, result("pos", **mood)),
            annotation(2),
            annotation(3, result("pos", "neg", **mood)),
        )
    ]
    table = read_tasks(tasks, SINGLE)
    assert rows(table, SINGLE) == [(0, 1, ("pos",))]
    assert table.report.no_choice == 2
    assert not table.report.clean
    assert table.annotations.is_single_label


def test_skips_are_excluded_and_drafts_ignored() -> None:
    tasks = [
        task(
            1,
            annotation(1, result("cat")),
            annotation(2, was_cancelled=True),
            drafts=[{"result": [result("dog")], "user": 5}],
        )
    ]
    table = read_tasks(tasks, MULTI)
    assert rows(table) == [(0, 1, ("cat",))]
    assert (table.report.skipped, table.report.drafts_ignored) == (1, 1)
    assert table.report.clean


def test_annotations_of_deleted_users_are_counted_and_left_out() -> None:
    tasks = [task(1, annotation(None, result("cat")), annotation(2, result("dog"))),
             task(2, annotation(None, result("bird")))]  # fmt: skip
    table = read_tasks(tasks, MULTI)
    assert rows(table) == [(0, 2, ("dog",))]
    assert table.report.no_annotator == 2
    with pytest.raises(InvalidTasksError, match="no user id in 'completed_by'"):
        read_tasks([task(1, {"id": 3, "result": []})], MULTI)  # missing, not null


@pytest.mark.parametrize("schema", [MULTI, SINGLE], ids=["multi", "single"])
def test_a_tag_renamed_after_annotating_is_refused_by_name(schema: Any) -> None:
    renamed = replace(schema, from_name="renamed")
    old = schema.from_name
    tasks = [task(1, annotation(1, result(*schema.classes[:1], name=old))),
             task(2, annotation(2, result(*schema.classes[1:2], name=old)))]  # fmt: skip
    with pytest.raises(LabelConfigError, match=rf"tag 'renamed'.* of '{old}' \(2\).*renamed"):
        read_tasks(tasks, renamed)
    other = replace(renamed, others=(f"Choices {old!r}",))  # the config has both tags
    assert len(read_tasks(tasks, other).annotations) == (2 if schema.multi_label else 0)


def test_unknown_choices_are_counted_and_their_annotations_left_out() -> None:
    tasks = [
        task(1, annotation(1, result("cat", "Parrot")), annotation(2, result("Parrot"))),
        task(2, annotation(1, result("Cat")), annotation(3, result("dog"))),
    ]
    table = read_tasks(tasks, MULTI)
    assert rows(table) == [(1, 3, ("dog",))]
    assert dict(table.report.unknown_choices) == {"Parrot": 2, "Cat": 1}
    assert table.report.unknown_annotations == 3


@pytest.mark.parametrize(
    "second, expected",
    [
        ({"created_at": "2025-01-02T00:00:00Z"}, ("dog",)),
        ({"created_at": "2024-12-31T00:00:00Z"}, ("cat",)),
        ({"created_at": "2024-12-31T00:00:00Z", "updated_at": "2025-02-01T00:00:00Z"}, ("dog",)),
    ],
    ids=["later-created", "earlier-created", "later-updated"],
)
def test_duplicates_keep_the_latest(second: dict[str, Any], expected: tuple[str, ...]) -> None:
    tasks = [task(1, annotation(1, result("cat")), annotation(1, result("dog"), **second))]
    table = read_tasks(tasks, MULTI)
    assert rows(table) == [(0, 1, expected)]
    assert table.report.duplicates_dropped == 1


def test_a_left_out_latest_annotation_has_no_stand_in() -> None:
    newer = annotation(1, result("Parrot"), created_at="2025-03-01T00:00:00Z")
    table = read_tasks([task(1, annotation(1, result("cat")), newer)], MULTI)
    assert rows(table) == []
    assert (table.report.duplicates_dropped, table.report.unknown_annotations) == (1, 1)


def test_no_tasks_gives_empty_arrays() -> None:
    table = read_tasks([], MULTI)
    assert table.task_ids.shape == (0,)
    assert table.annotations.labels.shape == (0, 3)


def test_webhook_payload_becomes_a_task() -> None:
    payload = {
        "action": "ANNOTATION_CREATED",
        "task": {"id": 4, "data": {"image": "4.png"}},
        "annotation": annotation(9, result("bird")),
        "project": {"id": 1},
    }
    table = read_tasks([task_from_webhook(payload)], MULTI)
    assert rows(table) == [(0, 9, ("bird",))]


@pytest.mark.parametrize(
    "payload",
    [{"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 1}]}, {"task": {"id": 1}}, []],
    ids=["deleted", "no-annotation", "not-an-object"],
)
def test_webhook_payload_without_task_or_annotation(payload: Any) -> None:
    with pytest.raises(InvalidTasksError, match="needs 'task' and 'annotation'"):
        task_from_webhook(payload)


@pytest.mark.parametrize(
    "tasks, match",
    [
        (["x"], "task #0 is a str"),
        (
            [{"data": {}}],
            r"task #0 has no integer 'id' \(got None\); .* may be a file of tasks to import",
        ),
        ([{"id": True, "data": {}}], "no integer 'id'"),
        ([{"id": "3", "data": {}}], "no integer 'id'"),
        ([task(1), task(1)], "task 1 appears twice"),
        ([{"id": 1}], "task 1 has no 'data' object"),
        ([{"id": 1, "data": [1]}], "task 1 has no 'data' object"),
        ([task(1, annotations={"a": 1})], "'annotations' that is not a list"),
        ([{"id": 1, "data": {}, "annotations": ["x"]}], "an annotation that is not an object"),
        ([task(1, annotation("alice", result("cat")))], r"task 1, annotation 1 has no user id"),
        ([task(1, annotation({"email": "a@b"}))], "no user id"),
        ([task(1, {"id": 5, "completed_by": 1, "result": {}})], "annotation 5 has a 'result' that"),
        ([task(1, annotation(1, "cat"))], "result item that is not an object"),
        ([task(1, annotation(1, {**result(), "value": {"choices": "cat"}}))], "value.choices"),
        ([task(1, annotation(1, {**result(), "value": None}))], "value.choices"),
        ([task(1, annotation(1, {**result(), "value": {"choices": [1]}}))], "list of strings"),
    ],
    ids=[
        "task-not-object",
        "no-id",
        "bool-id",
        "str-id",
        "duplicate-task",
        "no-data",
        "data-not-object",
        "annotations-not-list",
        "annotation-not-object",
        "no-user",
        "user-object-without-id",
        "result-not-list",
        "result-item-not-object",
        "choices-not-list",
        "no-value",
        "choices-not-strings",
    ],
)
def test_malformed_json(tasks: list[Any], match: str) -> None:
    with pytest.raises(InvalidTasksError, match=match):
        read_tasks(tasks, MULTI)


# -- predictions ---------------------------------------------------------------------------------


def test_prediction_json_shape() -> None:
    made = prediction_json(
        MULTI, 5, ["cat", "bird"], score=0.25, model_version="v1", result_score=0.5
    )
    assert made == {
        "task": 5,
        "result": [{**result("cat", "bird"), "score": 0.5}],
        "score": 0.25,
        "model_version": "v1",
    }
    assert prediction_json(MULTI, 5, [], score=1, model_version="v")["result"][0]["score"] == 1.0


def test_predictions_json_from_arrays() -> None:
    chosen = np.array([[1, 0, 1], [0, 0, 0]])
    made = predictions_json(MULTI, np.array([3, 4]), chosen, [0.9, 0.1], model_version="v")
    assert [p["result"][0]["value"]["choices"] for p in made] == [["cat", "bird"], []]
    assert [p["task"] for p in made] == [3, 4]
    assert all(type(p["task"]) is int and type(p["score"]) is float for p in made)


def test_predictions_json_shapes_must_agree() -> None:
    with pytest.raises(InvalidTasksError, match=r"chosen \(n, 3\)"):
        predictions_json(MULTI, [1, 2], np.zeros((2, 2)), [0.1, 0.2], model_version="v")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"chosen": ["Cat"]}, r"choices \['Cat'\] are not classes"),
        ({"score": 1.5}, r"'score' must be a number in \[0, 1\]"),
        ({"score": float("nan")}, "'score' must be"),
        ({"model_version": ""}, "'model_version' must be"),
        ({"task_id": "7"}, "'task' must be an integer"),
    ],
    ids=["unknown-class", "score-above-1", "score-nan", "no-version", "task-str"],
)
def test_prediction_json_refuses_invalid(kwargs: dict[str, Any], match: str) -> None:
    args = {"task_id": 1, "chosen": ["cat"], "score": 0.5, "model_version": "v", **kwargs}
    with pytest.raises(InvalidTasksError, match=match):
        prediction_json(MULTI, args.pop("task_id"), args.pop("chosen"), **args)


@pytest.mark.parametrize(
    "prediction, problem",
    [
        ("x", "must be an object"),
        ({"task": 1, "score": 0.5, "model_version": "v"}, "'result' must be a list"),
        (
            {"task": 1, "score": 0.5, "model_version": "v", "result": [result("pos", name="x")]},
            "not the 'mood'",
        ),
        (
            {"task": 1, "score": 0.5, "model_version": "v", "result": [result("pos", name="mood")]},
            "to_name 'text'",
        ),
        (
            {
                "task": 1,
                "score": 0.5,
                "model_version": "v",
                "result": [{"from_name": "mood", "to_name": "text", "type": "choices"}],
            },
            "value.choices must be a list",
        ),
        (
            {
                "task": 1,
                "score": 0.5,
                "model_version": "v",
                "result": [result("pos", "neg", name="mood", to="text")],
            },
            "needs one choice",
        ),
    ],
    ids=["not-object", "no-result", "other-tag", "wrong-to-name", "no-value", "two-choices-single"],
)
def test_check_prediction(prediction: Any, problem: str) -> None:
    problems = check_prediction(SINGLE, prediction)
    assert any(problem in p for p in problems), problems


def test_check_prediction_accepts_a_valid_one() -> None:
    valid = {
        "task": 1,
        "score": 0.0,
        "model_version": "v",
        "result": [result("neg", name="mood", to="text")],
    }
    assert check_prediction(SINGLE, valid) == []
