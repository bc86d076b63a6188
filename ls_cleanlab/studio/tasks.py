"""Label Studio task and annotation JSON to arrays.

:func:`read_tasks` takes tasks as the task list API, the JSON export or a webhook payload
(:func:`task_from_webhook`) give them and returns a :class:`TaskTable`: the task ids, the task
data, an :class:`~ls_cleanlab.annotations.Annotations` table indexing into those tasks, and a
:class:`TaskReport` of everything that was left out and why. Rules:

* one row per annotation that is neither skipped (``was_cancelled``) nor a draft (drafts live
  in ``drafts`` and are ignored), nor by a user since deleted (``completed_by`` null), counted;
* an annotation with no result for the audited ``Choices`` tag is an empty label set, valid in
  multi-label projects; in single-label projects it is left out and counted (``no_choice``);
* choice values the config does not know (the config changed after annotating) are counted per
  value, and the annotations holding them are left out: a partial label set would look like a
  missed label;
* an annotator who annotated a task twice keeps only the latest annotation (by ``updated_at``,
  then ``created_at``); when that one is left out (unknown choices), no older one stands in.

Prediction JSON is :mod:`ls_cleanlab.studio.predictions`'s.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.errors import InvalidTasksError, LabelConfigError
from ls_cleanlab.studio.schema import LabelSchema

__all__ = ["TaskReport", "TaskTable", "annotation_user", "read_tasks", "task_from_webhook"]


@dataclass(frozen=True)
class TaskReport:
    """What :func:`read_tasks` kept and what it left out.

    Attributes
    ----------
    n_tasks, n_annotations : int
        Tasks read and annotation rows kept.
    skipped : int
        Annotations skipped by their annotator (``was_cancelled``), left out.
    no_annotator : int
        Annotations whose annotator was deleted from Label Studio (``completed_by`` null), left
        out: nothing tells whose they were, so they cannot be weighed with their annotator's.
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
    no_annotator: int = 0

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
        hint = (
            "; every task of a Label Studio export has one, so this may be a file of tasks to "
            "import: import it, then export the project in JSON format"
            if "id" not in task
            else ""
        )
        raise _fail(f"task #{position} has no integer 'id' (got {value!r}){hint}.")
    return value


def annotation_user(annotation: Mapping[str, Any], where: str) -> int | None:
    """The annotation's user id, or None when its annotator was deleted from Label Studio
    (which keeps the annotation with ``completed_by`` null); ``where`` names the annotation
    in the error raised for a ``completed_by`` that is missing or not a user id."""
    if "completed_by" in annotation and annotation["completed_by"] is None:
        return None
    user = annotation.get("completed_by")
    if isinstance(user, Mapping):  # the export can expand users to objects
        user = user.get("id")
    if isinstance(user, bool) or not isinstance(user, int):
        raise _fail(f"{where} has no user id in 'completed_by' (got {user!r}).")
    return user


def _choices(
    annotation: Mapping[str, Any], schema: LabelSchema, where: str, other_tags: Counter[str]
) -> list[str]:
    """The annotation's choices of the schema's tag; counts in ``other_tags`` the names of the
    other tags it holds choices of."""
    result = annotation.get("result")
    if result is None:
        return []
    if not isinstance(result, list):
        raise _fail(f"{where} has a 'result' that is not a list.")
    values: list[str] = []
    others: set[str] = set()
    for item in result:
        if not isinstance(item, Mapping):
            raise _fail(f"{where} has a result item that is not an object: {item!r}.")
        if item.get("type", "choices") != "choices":
            continue
        if item.get("from_name") != schema.from_name:
            others.add(str(item.get("from_name")))
            continue
        value = item.get("value")
        chosen = value.get("choices") if isinstance(value, Mapping) else None
        if not isinstance(chosen, list) or not all(isinstance(c, str) for c in chosen):
            raise _fail(
                f"{where}: the {schema.from_name!r} result must have value.choices as a list of "
                f"strings, got {value!r}."
            )
        values.extend(chosen)
    other_tags.update(others)
    return values


def _check_tag_found(table: Annotations, dropped: int, other_tags: Counter[str],
                     schema: LabelSchema) -> None:  # fmt: skip
    """Refuse annotations that hold no choice of the audited tag while they hold choices of a
    tag the label config lacks: the tag was renamed after annotating, and reading every
    annotation as empty (multi-label) or as no choice (single-label) would audit nothing."""
    if (len(table) or dropped) == 0 or table.labels.any():
        return
    config_tags = {schema.from_name} | {o.split(" ", 1)[-1] for o in schema.others}
    lost = {name: n for name, n in other_tags.most_common() if repr(name) not in config_tags}
    if lost:
        held = ", ".join(f"{name!r} ({n})" for name, n in list(lost.items())[:5])
        raise LabelConfigError(
            f"no annotation holds a choice of the Choices tag {schema.from_name!r}, but "
            f"annotations hold choices of {held}, which the label config does not have: was "
            "the tag renamed after annotating? Audit with the label config the annotations "
            "were made with (or give the tag its old name back)."
        )


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
    LabelConfigError
        When no annotation holds a choice of the schema's tag but some hold choices of a tag
        the label config lacks (the tag was renamed after annotating).
    """
    if schema.kind != "classification":
        raise InvalidTasksError(
            f"read_tasks reads classification (Choices) annotations; this schema is of kind "
            f"{schema.kind!r}."
        )
    rows = _AnnotationRows(schema.class_index())
    ids: list[int] = []
    data: list[dict[str, Any]] = []
    seen: set[int] = set()
    skipped = drafts = no_annotator = 0
    other_tags: Counter[str] = Counter()
    for index, task in enumerate(tasks):
        task_id, task_data, annotations = task_parts(task, index, seen)
        drafts += len(task.get("drafts") or [])
        row = len(ids)
        ids.append(task_id)
        data.append(task_data)
        for annotation in annotations:
            if not isinstance(annotation, Mapping):
                raise _fail(f"task {task_id} has an annotation that is not an object.")
            where = f"task {task_id}, annotation {annotation.get('id')!r}"
            if annotation.get("was_cancelled"):
                skipped += 1
                continue
            user = annotation_user(annotation, where)
            if user is None:
                no_annotator += 1
                continue
            rows.add(row, user, _choices(annotation, schema, where, other_tags), annotation)
    table, counts = rows.annotations(schema)
    _check_tag_found(table, counts.no_choice, other_tags, schema)
    report = TaskReport(
        n_tasks=len(ids), n_annotations=len(table), skipped=skipped, no_choice=counts.no_choice,
        unknown_choices=MappingProxyType(dict(counts.unknown.most_common())),
        unknown_annotations=counts.unknown_rows, duplicates_dropped=counts.duplicates,
        ground_truth=int(table.ground_truth.sum()) if table.ground_truth is not None else 0,
        drafts_ignored=drafts, no_annotator=no_annotator,
    )  # fmt: skip
    return TaskTable(np.asarray(ids, dtype=np.int64), tuple(data), table, report)


def task_parts(task: Any, index: int, seen: set[int]) -> tuple[int, dict[str, Any], list[Any]]:
    """A task's id (added to ``seen``; twice is an error), its data and its annotations."""
    task_id = _task_id(task, index)
    if task_id in seen:
        raise _fail(f"task {task_id} appears twice; pass each task once.")
    seen.add(task_id)
    task_data = task.get("data")
    if not isinstance(task_data, Mapping):
        flat = sorted(str(key) for key in task if key not in ("id", "annotations", "predictions"))
        hint = (
            f"; its fields {flat[:5]} sit at the top level, as in a JSON-MIN or CSV export: "
            "export the project in Label Studio's JSON format"
            if flat and "data" not in task
            else ""
        )
        raise _fail(f"task {task_id} has no 'data' object (got {type(task_data).__name__}){hint}.")
    annotations = task.get("annotations") or []
    if not isinstance(annotations, list):
        raise _fail(f"task {task_id} has 'annotations' that is not a list.")
    return task_id, dict(task_data), annotations


@dataclass(frozen=True)
class _Dropped:
    """Counts of annotations :meth:`_AnnotationRows.annotations` left out, and why."""

    unknown: Counter[str]
    unknown_rows: int
    no_choice: int
    duplicates: int


@dataclass
class _AnnotationRows:
    """Annotation rows as they are read: one entry per annotation, in reading order, compact
    (a million tasks' annotations are read in a few hundred MB): numbers in typed arrays, each
    annotation's choices as a tuple of class indices (the strings themselves only when one is
    not a class of the schema)."""

    position: Mapping[str, int]
    task: array = field(default_factory=lambda: array("q"))
    user: array = field(default_factory=lambda: array("q"))
    choices: list[tuple[int, ...] | list[str]] = field(default_factory=list)
    lead_time: array = field(default_factory=lambda: array("d"))
    created_at: list[Any] = field(default_factory=list)
    order: list[Any] = field(default_factory=list)  # updated_at, else created_at
    ground_truth: bytearray = field(default_factory=bytearray)

    def add(self, row: int, user: int, chosen: list[str], annotation: Mapping[str, Any]) -> None:
        created = annotation.get("created_at")
        self.task.append(row)
        self.user.append(user)
        known = all(c in self.position for c in chosen)
        self.choices.append(tuple(self.position[c] for c in chosen) if known else chosen)
        self.lead_time.append(_number(annotation.get("lead_time")))
        self.created_at.append(created)
        self.order.append(annotation.get("updated_at") or created)
        self.ground_truth.append(bool(annotation.get("ground_truth")))

    def annotations(self, schema: LabelSchema) -> tuple[Annotations, _Dropped]:
        """The kept rows as an :class:`Annotations` table: each annotator's latest annotation
        of a task, unless it holds unknown choices (or no single choice, single-label); an
        annotator's latest annotation counts even when it is left out: older ones never stand
        in for it."""
        position = schema.class_index()
        task_index = np.frombuffer(self.task, dtype=np.int64)
        users = np.frombuffer(self.user, dtype=np.int64)
        latest = Annotations.latest_per_annotator(task_index, users, np.asarray(self.order, object))
        unknown: Counter[str] = Counter()
        keep: list[int] = []
        unknown_rows = no_choice = 0
        for r in latest.tolist():
            chosen = self.choices[r]
            if isinstance(chosen, list):  # holds a choice that is not a class
                unknown.update(c for c in chosen if c not in position)
                unknown_rows += 1
            elif not schema.multi_label and len(set(chosen)) != 1:
                no_choice += 1
            else:
                keep.append(r)
        labels = np.zeros((len(keep), schema.n_classes), dtype=np.int8)
        for i, r in enumerate(keep):
            labels[i, np.asarray(self.choices[r], dtype=np.int64)] = 1
        table = Annotations(
            task=task_index[keep], annotator=users[keep], labels=labels,
            lead_time=np.frombuffer(self.lead_time, dtype=np.float64)[keep],
            created_at=np.asarray(self.created_at, dtype=object)[keep],
            ground_truth=np.frombuffer(self.ground_truth, dtype=bool)[keep],
        )  # fmt: skip
        dropped = _Dropped(unknown, unknown_rows, no_choice, len(self.task) - len(latest))
        return table, dropped


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
