"""Prediction JSON for Label Studio, and the checks Label Studio applies to it, made loud.

:func:`prediction_json` builds one prediction of the audited ``Choices`` tag;
:func:`check_prediction` lists what would make Label Studio drop one silently (its import answers
``201 {"created": 0}`` for invalid predictions).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ls_cleanlab.errors import InvalidTasksError
from ls_cleanlab.studio.box_predictions import check_box_prediction
from ls_cleanlab.studio.schema import REASONS_CONTROL, LabelSchema

__all__ = [
    "check_prediction",
    "prediction_json",
    "prediction_versions",
    "predictions_json",
    "reasons_result",
]


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
        raise InvalidTasksError(f"invalid prediction for task {task_id}: {'; '.join(problems)}")
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
        raise InvalidTasksError(
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
        if _reasons_result(schema, item):
            continue
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


def reasons_result(schema: LabelSchema, reasons: Sequence[str]) -> dict[str, Any]:
    """The result that shows ``reasons`` in the config's reasons text area (``schema`` must
    have one, see :data:`~ls_cleanlab.studio.schema.REASONS_CONTROL`)."""
    return {"from_name": REASONS_CONTROL, "to_name": schema.reasons_to, "type": "textarea",
            "value": {"text": [str(r) for r in reasons]}}  # fmt: skip


def _reasons_result(schema: LabelSchema, item: Any) -> bool:
    """Whether ``item`` is a well-formed result of the config's reasons text area."""
    if schema.reasons_to is None or not isinstance(item, Mapping):
        return False
    value = item.get("value")
    text = value.get("text") if isinstance(value, Mapping) else None
    return (
        item.get("from_name") == REASONS_CONTROL
        and item.get("to_name") == schema.reasons_to
        and item.get("type") == "textarea"
        and isinstance(text, list)
        and all(isinstance(t, str) for t in text)
    )


def prediction_versions(
    tasks: Sequence[Mapping[str, Any]], from_name: str | None = None
) -> Counter[str]:
    """How many tasks hold a prediction of each ``model_version``; with ``from_name``, only
    predictions holding a result of that control tag count (another tag's are no use)."""
    counts: Counter[str] = Counter()
    for task in tasks:
        predictions = task.get("predictions")
        if not isinstance(predictions, list):
            continue
        versions = {
            str(p.get("model_version"))
            for p in predictions
            if isinstance(p, Mapping)
            and p.get("model_version") not in (None, "")
            and (from_name is None or _has_result(p, from_name))
        }
        counts.update(versions)
    return counts


def _has_result(prediction: Mapping[str, Any], from_name: str) -> bool:
    results = prediction.get("result")
    return isinstance(results, list) and any(
        isinstance(r, Mapping) and r.get("from_name") == from_name for r in results
    )
