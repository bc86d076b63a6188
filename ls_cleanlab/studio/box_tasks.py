"""Label Studio tasks with ``RectangleLabels`` annotations, read into a table of boxes.

:func:`read_boxes` takes tasks (task list API, JSON export or webhook payload) and a schema of
kind ``"boxes"`` and returns a :class:`BoxTable`: the task ids and data, a
:class:`~ls_cleanlab.detection.BoxAnnotations` with one row per box (image = the task's row,
annotator = the Label Studio user id, which annotations saw which task), and a
:class:`BoxReport` of what was left out and why.

Coordinates. Label Studio stores a rectangle as ``x``, ``y``, ``width``, ``height`` in percent of
the image's width and height, rotated by ``rotation`` degrees clockwise about its top-left
corner, with the image's size in pixels as ``original_width`` / ``original_height``. Boxes here
are ``x1, y1, x2, y2`` in percent (0-100 on both axes). IoU, the only geometry the audit uses, is
the same in percent as in pixels (both axes scale independently and areas by the same factor),
so the audit needs no image size.

Rules:

* annotations as :func:`~ls_cleanlab.studio.tasks.read_tasks` reads them: cancelled ones and
  drafts left out, an annotator's latest annotation of a task kept (an empty one says "nothing
  here", which is evidence);
* a box is left out, counted by reason, when its value is malformed, it has no class or several,
  its class is not in the config, it lies outside the image or has no area after clipping to the
  image, or it is rotated by an angle that is not a multiple of 90 degrees (such boxes are not
  axis-aligned, and the audit compares axis-aligned boxes; a multiple of 90 degrees is turned
  into the axis-aligned box it covers, which needs the image size);
* a box partly outside the image is clipped to it (counted as ``clipped``, and kept).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from ls_cleanlab.annotations import Annotations, as_seconds
from ls_cleanlab.detection import BoxAnnotations
from ls_cleanlab.errors import InvalidTasksError
from ls_cleanlab.studio.schema import LabelSchema
from ls_cleanlab.studio.tasks import annotation_user, task_parts

__all__ = ["BoxReport", "BoxTable", "KeptAnnotations", "parse_box", "read_boxes"]

#: Smallest kept box side, in percent of the image side.
MIN_SIDE = 1e-3
_ROTATION_TOLERANCE = 1e-3  # degrees


@dataclass(frozen=True, eq=False)
class KeptAnnotations:
    """The annotations a :class:`BoxTable` keeps (each annotator's latest of a task), one row
    each, for telling reviewed tasks (gold) apart.

    Attributes
    ----------
    task, user : np.ndarray of int64, shape (S,)
        The task's row and the Label Studio user id.
    ground_truth : np.ndarray of bool, shape (S,)
        Marked as ground truth.
    created_at : np.ndarray of float, shape (S,)
        Last update (else creation) in seconds since the epoch, NaN when unknown.
    """

    task: np.ndarray
    user: np.ndarray
    ground_truth: np.ndarray
    created_at: np.ndarray


@dataclass(frozen=True)
class BoxReport:
    """What :func:`read_boxes` kept and what it left out.

    Attributes
    ----------
    n_tasks, n_annotations, n_boxes : int
        Tasks read, annotations kept (including empty ones) and boxes kept.
    skipped : int
        Annotations skipped by their annotator (``was_cancelled``), left out.
    no_annotator : int
        Annotations whose annotator was deleted from Label Studio (``completed_by`` null), left
        out.
    duplicates_dropped : int
        Older annotations of an annotator who annotated the same task again.
    drafts_ignored : int
    ground_truth : int
        Kept annotations marked as ground truth.
    bad_boxes : Mapping[str, int]
        Boxes left out, by reason.
    unknown_labels : Mapping[str, int]
        Box classes the config does not know, with how often each occurred.
    clipped : int
        Boxes partly outside the image, clipped to it and kept.
    """

    n_tasks: int
    n_annotations: int
    n_boxes: int
    skipped: int
    duplicates_dropped: int
    drafts_ignored: int
    ground_truth: int
    bad_boxes: Mapping[str, int]
    unknown_labels: Mapping[str, int]
    clipped: int
    no_annotator: int = 0

    @property
    def n_bad(self) -> int:
        """Boxes left out."""
        return int(sum(self.bad_boxes.values()))


@dataclass(frozen=True)
class BoxTable:
    """Tasks and their boxes.

    Attributes
    ----------
    task_ids : np.ndarray of int64, shape (n,)
    data : tuple of dict, length n
    annotations : BoxAnnotations
        ``image`` indexes ``task_ids``; ``annotator`` is the Label Studio user id; boxes are
        ``x1, y1, x2, y2`` in percent; labels index ``schema.classes``; ``seen`` lists every kept
        annotation, empty ones included.
    sizes : np.ndarray, shape (n, 2)
        Each task's image width and height in pixels from its results (NaN when unknown).
    annotation_ids : np.ndarray of int64, shape (B,)
        The Label Studio annotation of each box (-1 when it has no id).
    report : BoxReport
    kept : KeptAnnotations or None
        The annotations kept, boxes or not (None: unknown, no gold can be found).
    """

    task_ids: np.ndarray
    data: tuple[dict[str, Any], ...]
    annotations: BoxAnnotations
    sizes: np.ndarray
    annotation_ids: np.ndarray
    report: BoxReport
    kept: KeptAnnotations | None = None


def _fail(message: str) -> InvalidTasksError:
    return InvalidTasksError(message)


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


Corners = tuple[float, float, float, float]


def _rotated(
    x: float, y: float, w: float, h: float, degrees: float, size: tuple[float, float]
) -> Corners | None:
    """The axis-aligned box (percent) covered by a box rotated by a multiple of 90 degrees about
    its top-left corner, or None when the image size is unknown."""
    width, height = size
    if not (width > 0 and height > 0):
        return None
    px, py, pw, ph = x * width / 100, y * height / 100, w * width / 100, h * height / 100
    theta = math.radians(degrees)
    cos, sin = round(math.cos(theta)), round(math.sin(theta))
    corners = [(0.0, 0.0), (pw, 0.0), (0.0, ph), (pw, ph)]
    xs = [px + cx * cos - cy * sin for cx, cy in corners]
    ys = [py + cx * sin + cy * cos for cx, cy in corners]
    return (
        min(xs) * 100 / width,
        min(ys) * 100 / height,
        max(xs) * 100 / width,
        max(ys) * 100 / height,
    )


def parse_box(
    item: Mapping[str, Any], position: Mapping[str, int]
) -> tuple[tuple[float, float, float, float] | None, int, str, bool]:
    """One ``rectanglelabels`` result as (x1, y1, x2, y2 in percent or None, class index, why it
    was left out, whether it was clipped to the image); ``position`` maps class names to
    indices (:meth:`LabelSchema.class_index`)."""
    value = item.get("value")
    if not isinstance(value, Mapping):
        return None, -1, "malformed value", False
    x, y = _number(value.get("x")), _number(value.get("y"))
    w, h = _number(value.get("width")), _number(value.get("height"))
    rotation = _number(value.get("rotation", 0) or 0)
    if x is None or y is None or w is None or h is None or rotation is None:
        return None, -1, "malformed value", False
    names = value.get("rectanglelabels")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None, -1, "malformed value", False
    if len(names) != 1:
        return None, -1, "no class" if not names else "several classes", False
    if names[0] not in position:
        return None, -1, "unknown class", False
    if w <= 0 or h <= 0:
        return None, -1, "zero area", False
    turn = rotation % 90
    if min(turn, 90 - turn) > _ROTATION_TOLERANCE:
        return None, -1, "rotated (not a multiple of 90 degrees)", False
    box: Corners = (x, y, x + w, y + h)
    if round(rotation / 90) % 4:
        size = (
            _number(item.get("original_width")) or 0.0,
            _number(item.get("original_height")) or 0.0,
        )
        turned = _rotated(x, y, w, h, rotation, size)
        if turned is None:
            return None, -1, "rotated, without the image size", False
        box = turned
    clipped = (max(box[0], 0.0), max(box[1], 0.0), min(box[2], 100.0), min(box[3], 100.0))
    if clipped[2] - clipped[0] < MIN_SIDE or clipped[3] - clipped[1] < MIN_SIDE:
        outside = box[2] <= 0 or box[3] <= 0 or box[0] >= 100 or box[1] >= 100
        return None, -1, "outside the image" if outside else "zero area", False
    return clipped, position[names[0]], "", clipped != box


@dataclass
class _Rows:
    """Growing columns of the table (private to :func:`read_boxes`)."""

    annotation_task: list[int]
    annotation_user: list[int]
    annotation_order: list[Any]
    annotation_truth: list[bool]
    annotation_id: list[int]
    annotation_boxes: list[list[tuple[tuple[float, float, float, float], int]]]


def _result_boxes(
    result: list[Any],
    schema: LabelSchema,
    where: str,
    bad: Counter[str],
    unknown: Counter[str],
    size: tuple[float, float],
) -> tuple[list[tuple[Corners, int]], int, tuple[float, float]]:
    """One annotation's boxes of the schema's tag (bad ones counted in ``bad`` and
    ``unknown``), how many were clipped, and the image size (``size`` until one is given)."""
    position = schema.class_index()
    kept: list[tuple[Corners, int]] = []
    clipped = 0
    for item in result:
        if not isinstance(item, Mapping):
            raise _fail(f"{where} has a result item that is not an object: {item!r}.")
        if item.get("from_name") != schema.from_name or item.get("type") != "rectanglelabels":
            continue
        width, height = _number(item.get("original_width")), _number(item.get("original_height"))
        if width and height and math.isnan(size[0]):
            size = (width, height)
        box, label, reason, was_clipped = parse_box(item, position)
        if box is None:
            bad[reason] += 1
            if reason == "unknown class":
                unknown[str(item["value"]["rectanglelabels"][0])] += 1
            continue
        clipped += was_clipped
        kept.append((box, label))
    return kept, clipped, size


def read_boxes(tasks: Iterable[Mapping[str, Any]], schema: LabelSchema) -> BoxTable:
    """Read tasks with ``RectangleLabels`` annotations into a :class:`BoxTable`.

    Parameters
    ----------
    tasks : iterable of dict
    schema : LabelSchema
        Of kind ``"boxes"`` (:func:`~ls_cleanlab.studio.parse_label_config`).

    Raises
    ------
    InvalidTasksError
        When the schema is not of kind ``"boxes"``, a task is not an object, lacks an integer
        ``id`` or a ``data`` object, appears twice, or an annotation's ``completed_by`` is
        missing or not a user id (null, a deleted user, is left out and counted), or
        has a ``result`` that is not a list of objects; the message names the task and
        annotation. Bad boxes are left out and counted, not raised.
    """
    if schema.kind != "boxes":
        raise _fail(
            f"read_boxes reads RectangleLabels boxes; this schema is of kind {schema.kind!r}."
        )
    ids: list[int] = []
    seen: set[int] = set()
    data: list[dict[str, Any]] = []
    sizes: list[tuple[float, float]] = []
    rows = _Rows([], [], [], [], [], [])
    bad: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    skipped = drafts = clipped = no_annotator = 0
    for index, task in enumerate(tasks):
        task_id, task_data, annotations = task_parts(task, index, seen)
        drafts += len(task.get("drafts") or [])
        row = len(ids)
        ids.append(task_id)
        data.append(dict(task_data))
        size = (math.nan, math.nan)
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
            result = annotation.get("result") or []
            if not isinstance(result, list):
                raise _fail(f"{where} has a 'result' that is not a list.")
            kept, n_clipped, size = _result_boxes(result, schema, where, bad, unknown, size)
            clipped += n_clipped
            identifier = annotation.get("id")
            rows.annotation_task.append(row)
            rows.annotation_user.append(user)
            rows.annotation_order.append(
                annotation.get("updated_at") or annotation.get("created_at")
            )
            rows.annotation_truth.append(bool(annotation.get("ground_truth")))
            rows.annotation_id.append(
                identifier
                if isinstance(identifier, int) and not isinstance(identifier, bool)
                else -1
            )
            rows.annotation_boxes.append(kept)
        sizes.append(size)
    return _table(ids, data, sizes, rows, bad, unknown, (skipped, no_annotator), drafts, clipped)


def _table(
    ids: list[int],
    data: list[dict[str, Any]],
    sizes: list[tuple[float, float]],
    rows: _Rows,
    bad: Counter[str],
    unknown: Counter[str],
    skipped: tuple[int, int],
    drafts: int,
    clipped: int,
) -> BoxTable:
    """The table; ``skipped``: cancelled annotations, annotations of deleted users."""
    task_index = np.asarray(rows.annotation_task, dtype=np.int64)
    users = np.asarray(rows.annotation_user, dtype=np.int64)
    order = np.asarray(rows.annotation_order, dtype=object)
    latest = Annotations.latest_per_annotator(task_index, users, order)
    truth = np.asarray(rows.annotation_truth, dtype=bool)
    times = as_seconds(order, "created_at", len(order))
    kept = KeptAnnotations(
        task=task_index[latest], user=users[latest], ground_truth=truth[latest],
        created_at=(times if times is not None else np.full(len(order), np.nan))[latest],
    )  # fmt: skip
    image, who, boxes, labels, annotation_ids = [], [], [], [], []
    for r in latest.tolist():
        for box, label in rows.annotation_boxes[r]:
            image.append(rows.annotation_task[r])
            who.append(rows.annotation_user[r])
            boxes.append(box)
            labels.append(label)
            annotation_ids.append(rows.annotation_id[r])
    annotations = BoxAnnotations(
        image=np.asarray(image, dtype=np.int64),
        annotator=np.asarray(who, dtype=np.int64),
        boxes=np.asarray(boxes, dtype=np.float64).reshape(-1, 4),
        labels=np.asarray(labels, dtype=np.int64),
        n_images=len(ids),
        seen_image=task_index[latest],
        seen_annotator=users[latest],
    )
    report = BoxReport(
        n_tasks=len(ids),
        n_annotations=len(latest),
        n_boxes=len(boxes),
        skipped=skipped[0],
        no_annotator=skipped[1],
        duplicates_dropped=len(task_index) - len(latest),
        drafts_ignored=drafts,
        ground_truth=int(truth[latest].sum()),
        bad_boxes=MappingProxyType(dict(bad.most_common())),
        unknown_labels=MappingProxyType(dict(unknown.most_common())),
        clipped=clipped,
    )
    return BoxTable(
        task_ids=np.asarray(ids, dtype=np.int64),
        data=tuple(data),
        annotations=annotations,
        sizes=np.asarray(sizes, dtype=np.float64).reshape(-1, 2),
        annotation_ids=np.asarray(annotation_ids, dtype=np.int64),
        report=report,
        kept=kept,
    )
