"""Label Studio task and annotation JSON to arrays, and arrays to prediction JSON.

:func:`read_tasks` takes tasks as the task list API, the JSON export or a webhook payload
(:func:`task_from_webhook`) give them and returns a :class:`TaskTable`: the task ids, the task
data, an :class:`~ls_cleanlab.annotations.Annotations` table indexing into those tasks, and a
:class:`TaskReport` of everything that was left out and why. Rules:

* one row per annotation that is neither skipped (``was_cancelled``) nor a draft (drafts live
  in ``drafts`` and are ignored);
* an annotation with no result for the audited ``Choices`` tag is an empty label set, valid in
  multi-label projects; in single-label projects it is left out and counted (``no_choice``);
* choice values the config does not know (the config changed after annotating) are counted per
  value, and the annotations holding them are left out: a partial label set would look like a
  missed label;
* an annotator who annotated a task twice keeps only the latest annotation (by ``updated_at``,
  then ``created_at``); when that one is left out (unknown choices), no older one stands in.

:func:`prediction_json` and :func:`predictions_json` build the prediction JSON Label Studio
imports; :func:`check_prediction` validates one the way Label Studio does, but loudly.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.errors import InvalidTasksError
from ls_cleanlab.studio.box_predictions import check_box_prediction
from ls_cleanlab.studio.schema import LabelSchema

__all__ = [
    "TaskReport",
    "TaskTable",
    "check_prediction",
    "prediction_json",
    "predictions_json",
    "read_tasks",
    "task_from_webhook",
]


@dataclass(frozen=True)
class TaskReport:
    """What :func:`read_tasks` kept and what it left out.

    Attributes
    ----------
    n_tasks, n_annotations : int
        Tasks read and annotation rows kept.
    skipped : int
        Annotations skipped by their annotator (``was_cancelled``), left out.
    no_choice : int
        Single-label annotations without a choice for the tag, left out.
    unknown_choices : Mapping[str, int]
        Choice values the config does not know, with how often each occurred.
    unknown_annotations : int
        Annotations left out because they hold unknown choice values.
    duplicates_dropped : int
        Older annotations of an annotator who annotated the same task again.
    ground_truth : int
        Kept annotations marked as ground truth.
    drafts_ignored : int
        Drafts seen in the tasks (never used).
    """

    n_tasks: int
    n_annotations: int
    skipped: int
    no_choice: int
    unknown_choices: Mapping[str, int]
    unknown_annotations: int
    duplicates_dropped: int
    ground_truth: int
    drafts_ignored: int

    @property
    def clean(self) -> bool:
        """True when nothing but skips and drafts was left out."""
        return not (self.no_choice or self.unknown_annotations or self.duplicates_dropped)


@dataclass(frozen=True)
class TaskTable:
    """Tasks and their annotations as arrays.

    Attributes
    ----------
    task_ids : np.ndarray of int64, shape (n,)
        Label Studio task ids, in the order the tasks were given.
    data : tuple of dict, length n
        Each task's ``data``.
    annotations : Annotations
        One row per kept annotation; ``task`` indexes into ``task_ids``, ``annotator`` is the
        Label Studio user id; columns of ``labels`` follow ``schema.classes``.
    report : TaskReport
    """

    task_ids: np.ndarray
    data: tuple[dict[str, Any], ...]
    annotations: Annotations
    report: TaskReport


def _fail(message: str) -> InvalidTasksError:
    return InvalidTasksError(message)


def _task_id(task: Any, position: int) -> int:
    if not isinstance(task, Mapping):
        raise _fail(f"task #{position} is a {type(task).__name__}, not a JSON object.")
    value = task.get("id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"task #{position} has no integer 'id' (got {value!r}).")
    return value


def _user_id(annotation: Mapping[str, Any], where: str) -> int:
    user = annotation.get("completed_by")
    if isinstance(user, Mapping):  # the export can expand users to objects
        user = user.get("id")
    if isinstance(user, bool) or not isinstance(user, int):
        raise _fail(f"{where} has no user id in 'completed_by' (got {user!r}).")
    return user


def _choices(annotation: Mapping[str, Any], schema: LabelSchema, where: str) -> list[str]:
    result = annotation.get("result")
    if result is None:
        return []
    if not isinstance(result, list):
        raise _fail(f"{where} has a 'result' that is not a list.")
    values: list[str] = []
    for item in result:
        if not isinstance(item, Mapping):
            raise _fail(f"{where} has a result item that is not an object: {item!r}.")
        if item.get("from_name") != schema.from_name or item.get("type", "choices") != "choices":
            continue
        value = item.get("value")
        chosen = value.get("choices") if isinstance(value, Mapping) else None
        if not isinstance(chosen, list) or not all(isinstance(c, str) for c in chosen):
            raise _fail(
                f"{where}: the {schema.from_name!r} result must have value.choices as a list of "
                f"strings, got {value!r}."
            )
        values.extend(chosen)
    return values


def _number(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return math.nan


def read_tasks(tasks: Iterable[Mapping[str, Any]], schema: LabelSchema) -> TaskTable:
    """Read Label Studio tasks (with their ``annotations``) into arrays.

    Parameters
    ----------
    tasks : iterable of dict
        Tasks from the task list API, the JSON export, or :func:`task_from_webhook`.
    schema : LabelSchema
        The ``Choices`` tag to read (:func:`~ls_cleanlab.studio.schema.parse_label_config`).

    Returns
    -------
    TaskTable

    Raises
    ------
    InvalidTasksError
        When a task is not an object, lacks an integer ``id`` or a ``data`` object, appears
        twice, or an annotation lacks ``completed_by`` or has a malformed ``result``; the message
        names the task and annotation.
    """
    if schema.kind != "classification":
        raise InvalidTasksError(
            f"read_tasks reads classification (Choices) annotations; this schema is of kind "
            f"{schema.kind!r}."
        )
    position = schema.class_index()
    ids: list[int] = []
    data: list[dict[str, Any]] = []
    seen: set[int] = set()
    rows_task: list[int] = []
    rows_user: list[int] = []
    rows_choices: list[list[str]] = []
    rows_lead: list[float] = []
    rows_created: list[Any] = []
    rows_order: list[Any] = []
    rows_truth: list[bool] = []
    unknown: Counter[str] = Counter()
    skipped = no_choice = unknown_rows = drafts = 0
    for index, task in enumerate(tasks):
        task_id = _task_id(task, index)
        if task_id in seen:
            raise _fail(f"task {task_id} appears twice; pass each task once.")
        seen.add(task_id)
        task_data = task.get("data")
        if not isinstance(task_data, Mapping):
            raise _fail(f"task {task_id} has no 'data' object (got {type(task_data).__name__}).")
        annotations = task.get("annotations") or []
        if not isinstance(annotations, list):
            raise _fail(f"task {task_id} has 'annotations' that is not a list.")
        drafts += len(task.get("drafts") or [])
        row = len(ids)
        ids.append(task_id)
        data.append(dict(task_data))
        for annotation in annotations:
            if not isinstance(annotation, Mapping):
                raise _fail(f"task {task_id} has an annotation that is not an object.")
            where = f"task {task_id}, annotation {annotation.get('id')!r}"
            if annotation.get("was_cancelled"):
                skipped += 1
                continue
            user = _user_id(annotation, where)
            chosen = _choices(annotation, schema, where)
            rows_task.append(row)
            rows_user.append(user)
            rows_choices.append(chosen)
            rows_lead.append(_number(annotation.get("lead_time")))
            created = annotation.get("created_at")
            rows_created.append(created)
            rows_order.append(annotation.get("updated_at") or created)
            rows_truth.append(bool(annotation.get("ground_truth")))
    task_index = np.asarray(rows_task, dtype=np.int64)
    users = np.asarray(rows_user, dtype=np.int64)
    order = np.asarray(rows_order, dtype=object)
    latest = Annotations.latest_per_annotator(task_index, users, order)
    # an annotator's latest annotation counts even when it is then left out: older ones never
    # stand in for it
    keep: list[int] = []
    for r in latest.tolist():
        strangers = [c for c in rows_choices[r] if c not in position]
        if strangers:
            unknown.update(strangers)
            unknown_rows += 1
        elif not schema.multi_label and len(set(rows_choices[r])) != 1:
            no_choice += 1
        else:
            keep.append(r)
    labels = np.zeros((len(keep), schema.n_classes), dtype=np.int8)
    for i, r in enumerate(keep):
        labels[i, [position[c] for c in rows_choices[r]]] = 1
    truth = np.asarray(rows_truth, dtype=bool)[keep]
    table = Annotations(
        task=task_index[keep],
        annotator=users[keep],
        labels=labels,
        lead_time=np.asarray(rows_lead, dtype=np.float64)[keep],
        created_at=np.asarray(rows_created, dtype=object)[keep],
        ground_truth=truth,
    )
    report = TaskReport(
        n_tasks=len(ids),
        n_annotations=len(table),
        skipped=skipped,
        no_choice=no_choice,
        unknown_choices=MappingProxyType(dict(unknown.most_common())),
        unknown_annotations=unknown_rows,
        duplicates_dropped=len(rows_task) - len(latest),
        ground_truth=int(truth.sum()),
        drafts_ignored=drafts,
    )
    return TaskTable(np.asarray(ids, dtype=np.int64), tuple(data), table, report)


def task_from_webhook(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The task of an ``ANNOTATION_CREATED`` / ``ANNOTATION_UPDATED`` webhook payload, with the
    event's annotation as its only annotation (the payload carries no others).

    Raises
    ------
    InvalidTasksError
        When the payload has no ``task`` or ``annotation`` object.
    """
    task = payload.get("task") if isinstance(payload, Mapping) else None
    annotation = payload.get("annotation") if isinstance(payload, Mapping) else None
    if not isinstance(task, Mapping) or not isinstance(annotation, Mapping):
        action = payload.get("action") if isinstance(payload, Mapping) else None
        raise _fail(
            f"the webhook payload (action {action!r}) needs 'task' and 'annotation' objects."
        )
    return {**task, "annotations": [dict(annotation)], "drafts": []}


def prediction_json(
    schema: LabelSchema,
    task_id: int,
    chosen: Sequence[str],
    *,
    score: float,
    model_version: str,
    result_score: float | None = None,
) -> dict[str, Any]:
    """One prediction for one task in Label Studio's import format.

    Parameters
    ----------
    schema : LabelSchema
    task_id : int
        The Label Studio task id.
    chosen : sequence of str
        The predicted classes (names from ``schema.classes``); exactly one when single-label.
    score : float
        The prediction's score in [0, 1] (Data Manager's "Prediction score").
    model_version : str
    result_score : float, optional
        The Choices result's own score; defaults to ``score``.

    Raises
    ------
    InvalidTasksError
        When the prediction would be invalid (see :func:`check_prediction`).
    """
    result = {
        "from_name": schema.from_name,
        "to_name": schema.to_name,
        "type": "choices",
        "value": {"choices": list(chosen)},
        "score": float(score if result_score is None else result_score),
    }
    prediction = {
        "task": task_id,
        "result": [result],
        "score": float(score),
        "model_version": model_version,
    }
    problems = check_prediction(schema, prediction)
    if problems:
        raise _fail(f"invalid prediction for task {task_id}: {'; '.join(problems)}")
    return prediction


def predictions_json(
    schema: LabelSchema,
    task_ids: Any,
    chosen: Any,
    scores: Any,
    *,
    model_version: str,
) -> list[dict[str, Any]]:
    """Predictions for many tasks from arrays.

    Parameters
    ----------
    task_ids : array_like of int, shape (n,)
    chosen : array_like of 0/1, shape (n, K)
        Predicted classes per task, columns in ``schema.classes`` order.
    scores : array_like of float, shape (n,)
        Prediction scores in [0, 1].
    model_version : str
    """
    ids = np.asarray(task_ids)
    matrix = np.asarray(chosen)
    values = np.asarray(scores, dtype=np.float64)
    if matrix.shape != (len(ids), schema.n_classes) or values.shape != (len(ids),):
        raise _fail(
            f"predictions need task_ids (n,), chosen (n, {schema.n_classes}) and scores (n,); got "
            f"{ids.shape}, {matrix.shape} and {values.shape}."
        )
    names = schema.classes
    return [
        prediction_json(
            schema,
            int(task_id),
            [names[k] for k in np.flatnonzero(row)],
            score=float(score),
            model_version=model_version,
        )
        for task_id, row, score in zip(ids, matrix, values, strict=True)
    ]


def check_prediction(schema: LabelSchema, prediction: Any) -> list[str]:
    """Problems that would make Label Studio drop ``prediction``; empty when it is valid.

    Checks the ``task`` id, ``score`` in [0, 1], ``model_version``, and each result of the
    audited tag: ``from_name``/``to_name``/``type``, known choice values, and exactly one choice
    when single-label. Box schemas are checked by
    :func:`~ls_cleanlab.studio.box_predictions.check_box_prediction`.
    """
    if schema.kind == "boxes":
        return check_box_prediction(schema, prediction)
    if not isinstance(prediction, Mapping):
        return [f"a prediction must be an object, got {type(prediction).__name__}"]
    problems = []
    task = prediction.get("task")
    if isinstance(task, bool) or not isinstance(task, int):
        problems.append(f"'task' must be an integer task id, got {task!r}")
    score = prediction.get("score")
    if not isinstance(score, (int, float)) or isinstance(score, bool) or not 0 <= score <= 1:
        problems.append(f"'score' must be a number in [0, 1], got {score!r}")
    version = prediction.get("model_version")
    if not isinstance(version, str) or not version:
        problems.append(f"'model_version' must be a non-empty string, got {version!r}")
    results = prediction.get("result")
    if not isinstance(results, list):
        return [*problems, "'result' must be a list"]
    known = set(schema.classes)
    for item in results:
        if not isinstance(item, Mapping) or item.get("from_name") != schema.from_name:
            name = item.get("from_name") if isinstance(item, Mapping) else item
            problems.append(f"result for {name!r} is not the {schema.from_name!r} Choices tag")
            continue
        if item.get("to_name") != schema.to_name or item.get("type") != "choices":
            problems.append(f"result must have to_name {schema.to_name!r} and type 'choices'")
        value = item.get("value")
        chosen = value.get("choices") if isinstance(value, Mapping) else None
        if not isinstance(chosen, list):
            problems.append("result value.choices must be a list")
            continue
        strangers = sorted({str(c) for c in chosen if c not in known})
        if strangers:
            problems.append(f"choices {strangers} are not classes of {schema.from_name!r}")
        if not schema.multi_label and len(chosen) != 1:
            problems.append(f"single-label {schema.from_name!r} needs one choice, got {chosen}")
    return problems
