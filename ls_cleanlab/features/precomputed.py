"""Precomputed inputs: embeddings in task data or a file, and predictions already in a project."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ls_cleanlab.errors import InvalidOptionError, InvalidTasksError
from ls_cleanlab.features.embedding_files import align_ids, open_embeddings
from ls_cleanlab.features.feature_set import FeatureSet, Scaling, scaled
from ls_cleanlab.features.rows import RowSink
from ls_cleanlab.ondisk import DiskArray

__all__ = ["field_embeddings", "load_embeddings", "prediction_probs"]


def _vector(value: Any) -> np.ndarray | None:
    try:
        vector = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if vector.ndim != 1 or vector.size == 0 or not np.isfinite(vector).all():
        return None
    return vector


def field_embeddings(
    data: Sequence[Mapping[str, Any]],
    field: str,
    *,
    encoder: Scaling | None = None,
    store_dir: str | Path | None = None,
) -> FeatureSet:
    """Embedding vectors stored in a task data field (a list of numbers), standardized.

    Tasks whose field is missing, not a flat list of finite numbers, or of another length than
    the most common one (with ``encoder``: than it expects) are skipped with the reason. With
    ``store_dir`` the features are kept on disk there (same values).
    """
    n = len(data)
    lengths = np.full(n, -1, dtype=np.int64)
    for row, task in enumerate(data):
        vector = _vector(task.get(field)) if isinstance(task, Mapping) else None
        if vector is not None:
            lengths[row] = vector.size
    if not (lengths >= 0).any():
        raise InvalidTasksError(
            f"no task has an embedding in data[{field!r}]; it must be a list of numbers."
        )
    width = (
        len(encoder.center)
        if encoder is not None
        else int(np.bincount(lengths[lengths >= 0]).argmax())
    )
    sink = RowSink(n, store_dir, name=f"field-{field}")
    skipped: dict[int, str] = {}
    for row, task in enumerate(data):
        if lengths[row] < 0:
            skipped[row] = f"data[{field!r}] is missing or not a list of finite numbers"
        elif lengths[row] != width:
            skipped[row] = f"data[{field!r}] has {lengths[row]} numbers, the others {width}"
        else:
            sink.put([row], np.asarray(task[field], dtype=np.float64))
    matrix, ok = sink.finish()
    if matrix.shape[1] != width and not isinstance(matrix, DiskArray):
        matrix = np.zeros((n, width), dtype=np.float32)
    features, fitted = scaled(matrix, ok, encoder)
    return FeatureSet(features, ok, skipped, f"field:{field}", encoder=fitted)


def load_embeddings(
    path: str | Path,
    task_ids: Sequence[int] | np.ndarray,
    *,
    encoder: Scaling | None = None,
    store_dir: str | Path | None = None,
) -> FeatureSet:
    """Embeddings from a file, aligned with ``task_ids``, standardized.

    Parameters
    ----------
    path : str or Path
        An ``.npy`` of shape (n, D) whose rows follow ``task_ids`` exactly, or an ``.npz`` with
        arrays ``task_ids`` (m,) and ``embeddings`` (m, D) in any order; tasks not in it are
        skipped. The file is read in chunks (:mod:`.embedding_files`), never whole.
    task_ids : sequence of int, length n
    encoder : Scaling, optional
    store_dir : str or Path, optional
        Keep the features on disk there (a :class:`~ls_cleanlab.ondisk.DiskArray`) instead of
        in memory; the values are the same.
    """
    ids = np.asarray(task_ids, dtype=np.int64)
    with open_embeddings(path) as found:
        path = found.path
        if found.task_ids is None and found.shape[0] != len(ids):
            raise InvalidOptionError(
                f"{path}: an .npy needs one row per task ({len(ids)}), got shape {found.shape}; "
                "use an .npz with 'task_ids' to align by id."
            )
        where = np.arange(len(ids)) if found.task_ids is None else align_ids(found.task_ids, ids)
        if encoder is None and len(ids) and found.task_ids is not None and (where < 0).all():
            raise InvalidOptionError(_no_id_matches(path, found.task_ids, ids))
        shape = (len(ids), int(found.shape[1]))
        matrix: Any
        if store_dir is not None:
            matrix = DiskArray.create(Path(store_dir) / f"embeddings-{uuid.uuid4().hex}.npy", shape)
        else:
            matrix = np.zeros(shape, dtype=np.float32)
        wanted = np.flatnonzero(where >= 0)
        by_row = wanted[np.argsort(where[wanted], kind="stable")]
        rows_sorted = where[by_row]
        chunk = matrix.chunk_rows if isinstance(matrix, DiskArray) else max(1, 2**25 // max(
            1, 4 * shape[1]))  # fmt: skip
        for start, block in found.blocks(chunk):
            lo, hi = np.searchsorted(rows_sorted, [start, start + len(block)])
            if hi > lo:
                values = block[rows_sorted[lo:hi] - start].astype(np.float32)
                if isinstance(matrix, DiskArray):
                    matrix.scatter(by_row[lo:hi], values)
                else:
                    matrix[by_row[lo:hi]] = values
    ok = where >= 0
    finite = _finite_rows(matrix)
    skipped = {int(r): f"task {ids[r]} is not in {path.name}" for r in np.flatnonzero(~ok)}
    skipped.update(
        {
            int(r): f"task {ids[r]} has NaN or inf in {path.name}"
            for r in np.flatnonzero(ok & ~finite)
        }
    )
    ok &= finite
    _zero_rows(matrix, ~ok)
    features, fitted = scaled(matrix, ok, encoder)
    source = f"file:{path.name}"
    return FeatureSet(features, ok, dict(sorted(skipped.items())), source, encoder=fitted)


def _no_id_matches(path: Path, file_ids: np.ndarray, ids: np.ndarray) -> str:
    """Why an embeddings file fits none of the tasks: both id ranges side by side."""
    held = f"ids {file_ids.min()}..{file_ids.max()}" if len(file_ids) else "no ids"
    return (
        f"{path.name}: none of the {len(ids)} tasks (ids {ids.min()}..{ids.max()}) is among its "
        f"task_ids ({held}); 'task_ids' must hold the Label Studio task ids."
    )


def _finite_rows(matrix: np.ndarray | DiskArray) -> np.ndarray:
    if not isinstance(matrix, DiskArray):
        return np.isfinite(matrix).all(axis=1)
    out = np.ones(len(matrix), dtype=bool)
    for start, stop in matrix.chunks():
        out[start:stop] = np.isfinite(matrix.take(slice(start, stop))).all(axis=1)
    return out


def _zero_rows(matrix: np.ndarray | DiskArray, rows: np.ndarray) -> None:
    if not isinstance(matrix, DiskArray):
        matrix[rows] = 0
    elif rows.any():
        where = np.flatnonzero(rows)
        matrix.scatter(where, np.zeros((len(where), matrix.shape[1]), dtype=np.float32))


def _latest(predictions: Any, model_version: str) -> Mapping[str, Any] | None:
    """The newest prediction of ``model_version`` among a task's predictions."""
    if not isinstance(predictions, list):
        return None
    mine = [
        p for p in predictions if isinstance(p, Mapping) and p.get("model_version") == model_version
    ]
    if not mine:
        return None
    return max(mine, key=lambda p: (str(p.get("created_at") or ""), _as_int(p.get("id"))))


def _as_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _score(value: Any, default: float) -> float | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        return None
    return float(value)


def prediction_probs(
    tasks: Sequence[Mapping[str, Any]], schema: Any, model_version: str
) -> FeatureSet:
    """Another model's predictions already in a project, read as probabilities ``(n, K)``.

    Label Studio keeps, per prediction, the chosen classes and scores, not a full probability
    vector, so it is read like this (documented, and exact when the model wrote one result per
    choice with that choice's score):

    * a chosen class gets the score of the result that lists it, else the prediction's ``score``,
      else 1;
    * multi-label: a class no result lists gets 0 (the model said it is absent);
    * single-label: the other classes share what is left equally, so rows sum to 1.

    Parameters
    ----------
    tasks : sequence of dict, length n
        Task JSON with ``predictions`` (export or task list), in the order of the audit's rows.
    schema : LabelSchema
        The audited Choices tag: only its results are read.
    model_version : str
        Whose predictions to read; with several, the newest.

    Returns
    -------
    FeatureSet
        ``features`` holds the probabilities (float64); tasks without a usable prediction of that
        version are skipped with the reason.

    Raises
    ------
    InvalidOptionError
        When no task has a prediction of ``model_version`` (the message lists the versions seen).
    """
    index = schema.class_index()
    n, k = len(tasks), schema.n_classes
    probs = np.zeros((n, k), dtype=np.float64)
    ok = np.zeros(n, dtype=bool)
    skipped: dict[int, str] = {}
    seen: set[str] = set()
    for row, task in enumerate(tasks):
        predictions = task.get("predictions") if isinstance(task, Mapping) else None
        for p in predictions if isinstance(predictions, list) else []:
            if isinstance(p, Mapping) and isinstance(p.get("model_version"), str):
                seen.add(p["model_version"])
        prediction = _latest(predictions, model_version)
        if prediction is None:
            skipped[row] = f"no prediction of model_version {model_version!r}"
            continue
        problem = _fill(probs[row], prediction, schema, index)
        if problem:
            skipped[row] = problem
            probs[row] = 0
        else:
            ok[row] = True
    if not ok.any() and model_version not in seen:
        raise InvalidOptionError(
            f"no task has a prediction of model_version {model_version!r}; versions present: "
            f"{sorted(seen) or 'none'}."
        )
    return FeatureSet(probs, ok, skipped, f"predictions:{model_version}")


def _fill(row: np.ndarray, prediction: Mapping[str, Any], schema: Any, index: dict) -> str | None:
    """Write one prediction's probabilities into ``row``; the problem if it cannot be read."""
    overall = _score(prediction.get("score"), 1.0)
    if overall is None:
        return f"prediction score {prediction.get('score')!r} is not a number in [0, 1]"
    results = prediction.get("result")
    mine = [
        item
        for item in (results if isinstance(results, list) else [])
        if isinstance(item, Mapping) and item.get("from_name") == schema.from_name
    ]
    if not mine:
        return f"the prediction has no result for {schema.from_name!r}"
    for item in mine:
        value = item.get("value")
        chosen = value.get("choices") if isinstance(value, Mapping) else None
        score = _score(item.get("score"), overall)
        if not isinstance(chosen, list) or score is None:
            return f"a {schema.from_name!r} result has no choices list or a bad score"
        unknown = [c for c in chosen if c not in index]
        if unknown:
            return f"predicted choices {unknown} are not classes of {schema.from_name!r}"
        for name in chosen:
            row[index[name]] = max(row[index[name]], score)
    if not schema.multi_label:
        top = int(np.argmax(row))
        chosen_mass = row[top]
        row[:] = (1 - chosen_mass) / max(len(row) - 1, 1)
        row[top] = chosen_mass if len(row) > 1 else 1.0
    return None
