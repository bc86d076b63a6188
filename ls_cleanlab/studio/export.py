"""Label Studio JSON exports read offline: their tasks, and a labeling schema inferred from them.

A JSON export (``Export → JSON`` in Label Studio, or ``GET /api/projects/{id}/export``) is a list
of tasks with their ``annotations`` and ``predictions``; it carries no labeling config. With the
config, :func:`~ls_cleanlab.studio.schema.parse_label_config` gives the schema; without it,
:func:`infer_schema` rebuilds one from the ``choices`` results the tasks hold.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ls_cleanlab.errors import InvalidOptionError, InvalidTasksError, LabelConfigError
from ls_cleanlab.studio.schema import LabelSchema

__all__ = ["infer_schema", "load_export", "prediction_versions"]

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")


def load_export(path: str | Path) -> list[dict[str, Any]]:
    """The tasks of a Label Studio JSON export file.

    Raises
    ------
    InvalidOptionError
        When the file does not exist or cannot be read.
    InvalidTasksError
        When it is not JSON, or not a list of task objects.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidOptionError(f"export file {str(path)!r} does not exist.")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidOptionError(f"cannot read export file {str(path)!r}: {exc}") from exc
    try:
        tasks = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidTasksError(
            f"export file {str(path)!r} is not valid JSON (line {exc.lineno}, column "
            f"{exc.colno}: {exc.msg})."
        ) from exc
    if not isinstance(tasks, list):
        raise InvalidTasksError(
            f"export file {str(path)!r} holds a JSON {type(tasks).__name__}, not the list of "
            "tasks of a Label Studio JSON export."
        )
    for position, task in enumerate(tasks):
        if not isinstance(task, dict):
            raise InvalidTasksError(
                f"export file {str(path)!r}: item {position} is a {type(task).__name__}, not a "
                "task object."
            )
    return tasks


def _choice_results(
    tasks: Sequence[Mapping[str, Any]], kind: str = "choices"
) -> Iterator[Mapping[str, Any]]:
    """Every ``choices`` (or other ``kind``) result of the tasks' annotations and predictions."""
    for task in tasks:
        for key in ("annotations", "predictions"):
            entries = task.get(key)
            if not isinstance(entries, list):
                continue
            for entry in entries:
                results = entry.get("result") if isinstance(entry, Mapping) else None
                if not isinstance(results, list):
                    continue
                for item in results:
                    if not isinstance(item, Mapping) or item.get("type") != kind:
                        continue
                    value = item.get("value")
                    if isinstance(value, Mapping) and isinstance(value.get(kind), list):
                        yield item


def _looks_like_image(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    lowered = value.strip().lower().split("?")[0]
    return (
        lowered.startswith("data:image/")
        or lowered.endswith(_IMAGE_SUFFIXES)
        or value.startswith(("/data/upload/", "/data/local-files/"))
    )


def infer_schema(
    tasks: Sequence[Mapping[str, Any]], choices_name: str | None = None
) -> LabelSchema:
    """A :class:`LabelSchema` rebuilt from the ``choices`` results found in the tasks (or, when
    there are none, their ``rectanglelabels`` results: a schema of kind ``"boxes"``).

    The ``Choices`` tag is the one ``from_name``/``to_name`` pair seen (or ``choices_name``); the
    classes are the sorted choice values seen; the tag is multi-label when any result holds more
    than one choice; the data key is ``to_name`` when tasks have that field, else their only
    field; the object is an ``Image`` when that field looks like an image reference, else a
    ``Text``. Classes nobody chose are unknown this way: pass the label config to include them.

    Raises
    ------
    LabelConfigError
        When there is no ``choices`` result, several tags and no ``choices_name``, or no task
        data field to read.
    """
    pairs: Counter[tuple[str, str]] = Counter()
    classes: dict[tuple[str, str], set[str]] = {}
    multi: dict[tuple[str, str], bool] = {}
    for item in _choice_results(tasks):
        pair = (str(item.get("from_name", "")), str(item.get("to_name", "")))
        chosen = [str(c) for c in item["value"]["choices"]]
        pairs[pair] += 1
        classes.setdefault(pair, set()).update(chosen)
        multi[pair] = multi.get(pair, False) or len(chosen) > 1
    if choices_name is not None:
        pairs = Counter({p: c for p, c in pairs.items() if p[0] == choices_name})
    if not pairs and any(True for _ in _choice_results(tasks, "rectanglelabels")):
        return _infer_boxes(tasks, choices_name)
    if not pairs:
        where = f" for the Choices tag {choices_name!r}" if choices_name else ""
        raise LabelConfigError(
            f"the tasks hold no choices results{where}, so the labeling schema cannot be "
            "inferred; pass the project's label config."
        )
    if len(pairs) > 1:
        seen = ", ".join(f"{f!r} -> {t!r}" for f, t in sorted(pairs))
        raise LabelConfigError(
            f"the tasks hold choices of several tags ({seen}); name the one to audit."
        )
    (from_name, to_name) = next(iter(pairs))
    fields: Counter[str] = Counter()
    for task in tasks:
        data = task.get("data")
        if isinstance(data, Mapping):
            fields.update(str(key) for key in data)
    if to_name in fields:
        data_key = to_name
    elif len(fields) == 1:
        data_key = next(iter(fields))
    else:
        raise LabelConfigError(
            f"cannot tell which task data field the tag {from_name!r} labels (to_name {to_name!r}"
            f", data fields {sorted(fields)[:10]}); pass the project's label config."
        )
    values = [
        task["data"][data_key]
        for task in tasks[:50]
        if isinstance(task.get("data"), Mapping) and data_key in task["data"]
    ]
    image = bool(values) and all(_looks_like_image(v) for v in values)
    return LabelSchema(
        from_name=from_name,
        to_name=to_name,
        object_tag="Image" if image else "Text",
        data_key=data_key,
        classes=tuple(sorted(classes[(from_name, to_name)])),
        multi_label=multi[(from_name, to_name)],
    )


def prediction_versions(tasks: Sequence[Mapping[str, Any]]) -> Counter[str]:
    """How many tasks hold a prediction of each ``model_version``."""
    counts: Counter[str] = Counter()
    for task in tasks:
        predictions = task.get("predictions")
        if not isinstance(predictions, list):
            continue
        versions = {
            str(p.get("model_version"))
            for p in predictions
            if isinstance(p, Mapping) and p.get("model_version") not in (None, "")
        }
        counts.update(versions)
    return counts


def _infer_boxes(tasks: Sequence[Mapping[str, Any]], name: str | None) -> LabelSchema:
    """A ``"boxes"`` schema from the tasks' ``rectanglelabels`` results (classes: those seen)."""
    pairs: Counter[tuple[str, str]] = Counter()
    classes: dict[tuple[str, str], set[str]] = {}
    for item in _choice_results(tasks, "rectanglelabels"):
        pair = (str(item.get("from_name", "")), str(item.get("to_name", "")))
        if name is not None and pair[0] != name:
            continue
        pairs[pair] += 1
        classes.setdefault(pair, set()).update(str(c) for c in item["value"]["rectanglelabels"])
    if len(pairs) != 1:
        seen = ", ".join(f"{f!r} -> {t!r}" for f, t in sorted(pairs)) or "none"
        raise LabelConfigError(
            f"cannot infer the RectangleLabels tag to audit (tags seen: {seen}); pass the "
            "project's label config, or --choices NAME."
        )
    (from_name, to_name) = next(iter(pairs))
    fields: Counter[str] = Counter()
    for task in tasks:
        data = task.get("data")
        if isinstance(data, Mapping):
            fields.update(str(key) for key in data)
    data_key = to_name if to_name in fields else next(iter(fields), "") if len(fields) == 1 else ""
    if not data_key:
        raise LabelConfigError(
            f"cannot tell which task data field holds the image of {from_name!r} (data fields "
            f"{sorted(fields)[:10]}); pass the project's label config."
        )
    return LabelSchema(
        from_name=from_name,
        to_name=to_name,
        object_tag="Image",
        data_key=data_key,
        classes=tuple(sorted(classes[(from_name, to_name)])),
        multi_label=False,
        kind="boxes",
    )
