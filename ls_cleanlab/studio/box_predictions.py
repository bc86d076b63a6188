"""Box predictions in Label Studio's format, and their validation.

A box prediction holds one ``rectanglelabels`` result per box, in percent coordinates, with the
box's own ``score`` (its confidence, in [0, 1]) and optional ``meta``; the prediction's ``score``
(in [0, 1]) is what the Data Manager sorts by. :func:`check_box_prediction` finds what would make
Label Studio drop it, loudly (the client then runs the SDK's ``validate_prediction`` too, as Label
Studio does).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ls_cleanlab.errors import InvalidTasksError
from ls_cleanlab.studio.schema import LabelSchema

__all__ = ["Box", "box_prediction_json", "check_box_prediction"]

_EPSILON = 1e-6


@dataclass(frozen=True)
class Box:
    """One box of a prediction.

    Attributes
    ----------
    x1, y1, x2, y2 : float
        Corners in percent of the image's width and height (0-100).
    label : str
        The class, as stored in results (``schema.classes``).
    score : float
        Confidence in [0, 1].
    meta : dict
        Stored with the result (Label Studio keeps it).
    """

    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    score: float
    meta: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls, corners: Any, label: str, score: float, meta: Mapping[str, Any] | None = None
    ) -> Box:
        """A box from its corners ``(x1, y1, x2, y2)`` (any sequence of four numbers)."""
        x1, y1, x2, y2 = (float(v) for v in corners)
        return cls(x1, y1, x2, y2, label, float(score), dict(meta or {}))


def _result(schema: LabelSchema, index: int, box: Box, size: tuple[int, int] | None) -> dict:
    x1, y1 = min(max(box.x1, 0.0), 100.0), min(max(box.y1, 0.0), 100.0)
    x2, y2 = min(max(box.x2, 0.0), 100.0), min(max(box.y2, 0.0), 100.0)
    result: dict[str, Any] = {
        "id": f"lscl{index}",
        "from_name": schema.from_name,
        "to_name": schema.to_name,
        "type": "rectanglelabels",
        "value": {
            "x": round(x1, 4),
            "y": round(y1, 4),
            "width": round(x2 - x1, 4),
            "height": round(y2 - y1, 4),
            "rotation": 0,
            "rectanglelabels": [box.label],
        },
        "score": round(min(max(float(box.score), 0.0), 1.0), 4),
    }
    if size is not None:
        result["original_width"], result["original_height"] = int(size[0]), int(size[1])
        result["image_rotation"] = 0
    if box.meta:
        result["meta"] = dict(box.meta)
    return result


def box_prediction_json(
    schema: LabelSchema,
    task_id: int,
    boxes: Sequence[Box],
    *,
    score: float,
    model_version: str,
    size: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """One box prediction for one task in Label Studio's import format.

    Parameters
    ----------
    schema : LabelSchema
        Of kind ``"boxes"``.
    task_id : int
    boxes : sequence of Box
    score : float
        The prediction's score in [0, 1].
    model_version : str
    size : (width, height), optional
        The image's size in pixels, stored as ``original_width`` / ``original_height``.

    Raises
    ------
    InvalidTasksError
        When the prediction would be invalid (see :func:`check_box_prediction`).
    """
    prediction = {
        "task": task_id,
        "result": [_result(schema, i, box, size) for i, box in enumerate(boxes)],
        "score": float(score),
        "model_version": model_version,
    }
    problems = check_box_prediction(schema, prediction)
    if problems:
        raise InvalidTasksError(f"invalid prediction for task {task_id}: {'; '.join(problems)}")
    return prediction


def _unit(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= 1
    )


def _value_problems(value: Any, known: set[str], where: str) -> list[str]:
    if not isinstance(value, Mapping):
        return [f"{where}: value must be an object"]
    problems = []
    numbers = {key: value.get(key) for key in ("x", "y", "width", "height")}
    bad = [k for k, v in numbers.items() if not isinstance(v, (int, float)) or isinstance(v, bool)
           or not math.isfinite(v)]  # fmt: skip
    if bad:
        return [f"{where}: value {', '.join(bad)} must be finite numbers"]
    x, y, w, h = (float(numbers[k]) for k in ("x", "y", "width", "height"))  # type: ignore[arg-type]
    if w <= 0 or h <= 0:
        problems.append(f"{where}: width and height must be positive, got {w} and {h}")
    if x < -_EPSILON or y < -_EPSILON or x + w > 100 + _EPSILON or y + h > 100 + _EPSILON:
        problems.append(f"{where}: the box must lie inside the image (0-100 percent)")
    names = value.get("rectanglelabels")
    if not isinstance(names, list) or len(names) != 1:
        problems.append(f"{where}: value.rectanglelabels must hold exactly one class")
    elif names[0] not in known:
        problems.append(f"{where}: class {names[0]!r} is not a label of the config")
    return problems


def check_box_prediction(schema: LabelSchema, prediction: Any) -> list[str]:
    """Problems that would make Label Studio drop a box ``prediction``; empty when it is valid.

    Checks the ``task`` id, ``score`` in [0, 1], ``model_version``, and each result: the
    ``RectangleLabels`` tag (``from_name``, ``to_name``, ``type``), a box inside the image with
    positive size, exactly one known class, and a result ``score`` in [0, 1].
    """
    if not isinstance(prediction, Mapping):
        return [f"a prediction must be an object, got {type(prediction).__name__}"]
    problems = []
    task = prediction.get("task")
    if isinstance(task, bool) or not isinstance(task, int):
        problems.append(f"'task' must be an integer task id, got {task!r}")
    if not _unit(prediction.get("score")):
        problems.append(f"'score' must be a number in [0, 1], got {prediction.get('score')!r}")
    version = prediction.get("model_version")
    if not isinstance(version, str) or not version:
        problems.append(f"'model_version' must be a non-empty string, got {version!r}")
    results = prediction.get("result")
    if not isinstance(results, list):
        return [*problems, "'result' must be a list"]
    known = set(schema.classes)
    for i, item in enumerate(results):
        where = f"result {i}"
        if not isinstance(item, Mapping) or item.get("from_name") != schema.from_name:
            name = item.get("from_name") if isinstance(item, Mapping) else item
            problems.append(f"{where} for {name!r} is not the {schema.from_name!r} tag")
            continue
        if item.get("to_name") != schema.to_name or item.get("type") != "rectanglelabels":
            problems.append(
                f"{where} must have to_name {schema.to_name!r} and type 'rectanglelabels'"
            )
        if "score" in item and not _unit(item["score"]):
            problems.append(f"{where}: score must be a number in [0, 1], got {item['score']!r}")
        problems.extend(_value_problems(item.get("value"), known, where))
    return problems
