"""Where a box audit's detector boxes come from, when they are not fitted here.

* :func:`boxes_from_version`: another model version's predictions already in the project (for
  example the pre-annotations of a YOLO ML backend): its ``rectanglelabels`` results, each box's
  ``score`` as its confidence (the prediction's ``score`` when the box has none, else 1);
* :func:`boxes_from_coco`: a COCO-style detections file, either a COCO dataset with scored
  ``annotations`` (``{"images": [...], "categories": [...], "annotations": [...]}``) or a bare
  results list whose items name their class (``category_name``). Images are matched to tasks by
  file name (Label Studio's upload prefix ignored; the ``images`` entry's ``file_name``, or a
  detection's own ``file_name`` or string ``image_id``), else by ``image_id`` = task id; ``bbox`` is
  ``[x, y, width, height]`` in pixels, converted to percent with the image size from the file or
  from the task's annotations.

Both give a :class:`BoxEvidence`: per task, cleanlab's predictions format (one ``(M, 5)`` array
per class of x1, y1, x2, y2 in percent and confidence) and which tasks have any.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ls_cleanlab.errors import InvalidOptionError
from ls_cleanlab.model.detector import BoxDetector
from ls_cleanlab.studio import BoxTable, LabelSchema
from ls_cleanlab.studio.box_tasks import parse_box

__all__ = ["BoxEvidence", "boxes_from_coco", "boxes_from_version", "empty_predictions"]

_UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-")


@dataclass(frozen=True, eq=False)
class BoxEvidence:
    """A detector's boxes on the tasks of a :class:`~ls_cleanlab.studio.BoxTable`.

    Attributes
    ----------
    predictions : list, length n
        Per task, ``K`` arrays ``(M_k, 5)``: x1, y1, x2, y2 in percent and confidence.
    ok : ndarray of bool, shape (n,)
        Tasks the detector looked at (the others are left out of a detector-aided audit).
    skipped : dict of int to str
        Row -> why it has no detector boxes.
    source : str
        ``"detector:<name>"``, ``"predictions:<version>"`` or ``"file:<name>"``.
    detector : BoxDetector or None
        The detector fitted here, if any.
    notes : tuple of str
        What the reader should know (unmatched images, unknown categories ...).
    media_kinds : dict of int to str
        Row -> the ``MediaError.kind`` of a skipped row whose image failed to load (its reason).
    """

    predictions: list[list[np.ndarray]]
    ok: np.ndarray
    skipped: dict[int, str] = field(default_factory=dict)
    source: str = ""
    detector: BoxDetector | None = None
    notes: tuple[str, ...] = ()
    media_kinds: dict[int, str] = field(default_factory=dict)


def empty_predictions(k: int) -> list[np.ndarray]:
    """``K`` empty ``(0, 5)`` arrays: an image with no detector box."""
    return [np.zeros((0, 5)) for _ in range(k)]


def _grouped(rows: list[tuple[float, float, float, float, float, int]], k: int) -> list[np.ndarray]:
    out = empty_predictions(k)
    if not rows:
        return out
    array = np.asarray(rows, dtype=np.float64)
    classes = array[:, 5].astype(np.int64)
    return [array[classes == c, :5] for c in range(k)]


def boxes_from_version(
    tasks: Sequence[Mapping[str, Any]], table: BoxTable, schema: LabelSchema, version: str
) -> BoxEvidence:
    """The boxes of model version ``version``'s predictions, task by task (in table order)."""
    position = schema.class_index()
    by_id = {int(t["id"]): t for t in tasks if isinstance(t, Mapping) and "id" in t}
    k = schema.n_classes
    predictions, ok, skipped = [], np.zeros(len(table.task_ids), dtype=bool), {}
    found_any = False
    bad: Counter[str] = Counter()
    for row, task_id in enumerate(table.task_ids.tolist()):
        entries = [
            p for p in by_id.get(task_id, {}).get("predictions") or []
            if isinstance(p, Mapping) and p.get("model_version") == version
        ]  # fmt: skip
        if not entries:
            skipped[row] = f"no prediction of model version {version!r}"
            predictions.append(empty_predictions(k))
            continue
        found_any = True
        ok[row] = True
        entry = entries[-1]
        fallback = entry.get("score")
        fallback = float(fallback) if isinstance(fallback, (int, float)) else 1.0
        rows = []
        for item in entry.get("result") or []:
            if not isinstance(item, Mapping) or item.get("from_name") != schema.from_name:
                continue
            box, label, reason, _ = parse_box(item, position)
            if box is None:
                bad[reason] += 1
                continue
            score = item.get("score")
            confidence = float(score) if isinstance(score, (int, float)) else fallback
            rows.append((*box, min(max(confidence, 0.0), 1.0), label))
        predictions.append(_grouped(rows, k))
    if not found_any:
        raise InvalidOptionError(
            f"no task has a prediction of model version {version!r}; pick a version the "
            "project's predictions carry."
        )
    notes = tuple(f"{n} boxes of {version!r} left out: {r}" for r, n in bad.most_common())
    return BoxEvidence(predictions, ok, skipped, f"predictions:{version}", None, notes)


def _file_key(reference: Any) -> str:
    """The file name of an image reference, without Label Studio's upload prefix."""
    text = urllib.parse.unquote(str(reference)).split("?d=")[-1].split("?")[0]
    name = text.rstrip("/").rsplit("/", 1)[-1]
    return _UPLOAD_PREFIX.sub("", name)


def _load_coco(path: str | Path) -> tuple[list[Any], dict[Any, Any], dict[Any, str] | None]:
    """(detections, images by id, category names by id or None)."""
    file = Path(path)
    if not file.is_file():
        raise InvalidOptionError(f"predictions file {str(file)!r} does not exist.")
    try:
        loaded = json.loads(file.read_bytes())  # UTF-8, or what a byte order mark says
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidOptionError(f"cannot read predictions file {str(file)!r}: {exc}") from exc
    if isinstance(loaded, list):
        return loaded, {}, None
    if not isinstance(loaded, Mapping) or not isinstance(loaded.get("annotations"), list):
        raise InvalidOptionError(
            f"predictions file {str(file)!r} must be a list of detections or a COCO dataset with "
            "'annotations' (and 'categories')."
        )
    images = {im.get("id"): im for im in loaded.get("images") or [] if isinstance(im, Mapping)}
    categories = {
        c.get("id"): str(c.get("name"))
        for c in loaded.get("categories") or []
        if isinstance(c, Mapping)
    }
    return loaded["annotations"], images, categories or None


def _detection(
    i: int, det: Any, categories: Mapping[Any, str] | None
) -> tuple[tuple[float, float, float, float], float, str]:
    """Detection ``i`` of a file checked: its bbox, its score clipped to [0, 1], its class."""
    if not isinstance(det, Mapping):
        raise InvalidOptionError(f"predictions file: detection {i} is not an object.")
    bbox, score = det.get("bbox"), det.get("score", 1.0)
    if (
        not isinstance(bbox, list) or len(bbox) != 4
        or not all(isinstance(v, (int, float)) and np.isfinite(v) for v in bbox)
        or not isinstance(score, (int, float))
    ):  # fmt: skip
        raise InvalidOptionError(
            f"predictions file: detection {i} needs 'bbox' [x, y, width, height] and a "
            f"numeric 'score'; got {dict(det)!r:.200}."
        )
    name = det.get("category_name")
    if name is None and categories is not None:
        name = categories.get(det.get("category_id"))
    if name is None:
        raise InvalidOptionError(
            f"predictions file: detection {i} names no class: give 'category_name', or a "
            "COCO dataset with 'categories'."
        )
    x, y, w, h = (float(v) for v in bbox)
    return (x, y, w, h), float(np.clip(score, 0, 1)), str(name)


def boxes_from_coco(path: str | Path, table: BoxTable, schema: LabelSchema) -> BoxEvidence:
    """The detections of a COCO-style file, task by task (see the module docstring).

    Raises
    ------
    InvalidOptionError
        When the file cannot be read, a detection is malformed (the message names it), no
        category matches a class of the config, or no image matches a task.
    """
    detections, images, categories = _load_coco(path)
    position = schema.class_index()
    by_file = {_file_key(d.get(schema.data_key)): r for r, d in enumerate(table.data)}
    by_id = {int(t): r for r, t in enumerate(table.task_ids.tolist())}

    def row_of(image_id: Any, file_name: Any = None) -> int | None:
        image = images.get(image_id) if isinstance(image_id, (int, str)) else None
        if file_name is None and image is not None:
            file_name = image.get("file_name")
        if file_name is None and isinstance(image_id, str):  # a list naming images by file
            file_name = image_id
        if file_name is not None:
            found = by_file.get(_UPLOAD_PREFIX.sub("", str(file_name).rsplit("/", 1)[-1]))
            if found is not None:
                return found
        return by_id.get(image_id) if isinstance(image_id, int) else None

    rows: dict[int, list[tuple[float, float, float, float, float, int]]] = {}
    unknown: Counter[str] = Counter()
    unmatched: set[Any] = set()
    no_size = 0
    for i, det in enumerate(detections):
        bbox, score, name = _detection(i, det, categories)
        if name not in position:
            unknown[name] += 1
            continue
        row = row_of(det.get("image_id"), det.get("file_name"))
        if row is None:
            unmatched.add(str(det.get("file_name", det.get("image_id", "(no image_id)"))))
            continue
        image = images.get(det.get("image_id")) or {}
        width = image.get("width") or table.sizes[row, 0]
        height = image.get("height") or table.sizes[row, 1]
        if not (isinstance(width, (int, float)) and width > 0 and height > 0):
            no_size += 1
            continue
        x, y, w, h = bbox
        box = (100 * x / width, 100 * y / height, 100 * (x + w) / width, 100 * (y + h) / height)
        rows.setdefault(row, []).append((*box, score, position[name]))
    if not rows:
        raise InvalidOptionError(
            f"predictions file {str(path)!r} has no detection of a known class on a known task "
            f"(classes of the file not in the config: {sorted(unknown)[:10]}; images that match no "
            f"task: {len(unmatched)}, e.g. {sorted(unmatched)[:3]}); check the categories and the "
            "images: a detection names its image by 'image_id' (a task id, an id of the file's "
            "'images', or a file name) or 'file_name'."
        )
    n = len(table.task_ids)
    listed = {r for r in (row_of(i) for i in images) if r is not None} if images else set(range(n))
    ok = np.zeros(n, dtype=bool)
    ok[sorted(listed | set(rows))] = True
    k = schema.n_classes
    predictions = [_grouped(rows.get(r, []), k) for r in range(n)]
    skipped = {r: "not in the predictions file" for r in np.flatnonzero(~ok).tolist()}
    notes = []
    if unknown:
        notes.append(f"detections of classes not in the config left out: {dict(unknown)}")
    if unmatched:
        notes.append(f"{len(unmatched)} images of the file match no task")
    if no_size:
        notes.append(f"{no_size} detections left out: image size unknown")
    return BoxEvidence(predictions, ok, skipped, f"file:{Path(path).name}", None, tuple(notes))
