"""Label Studio JSON exports read offline: their tasks, and a labeling schema inferred from them.

A JSON export (``Export → JSON`` in Label Studio, or ``GET /api/projects/{id}/export``) is a list
of tasks with their ``annotations`` and ``predictions``; it carries no labeling config. With the
config, :func:`~ls_cleanlab.studio.schema.parse_label_config` gives the schema; without it,
:func:`infer_schema` rebuilds one from the ``choices`` results the tasks hold. A large export is
read as a stream (:func:`iter_export`, :class:`ExportFile`): a million tasks never sit in memory
as JSON objects all at once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path
from typing import Any, overload

from ls_cleanlab.errors import InvalidOptionError, InvalidTasksError, LabelConfigError
from ls_cleanlab.studio.schema import LabelSchema
from ls_cleanlab.studio.tasks import task_parts

__all__ = ["ExportFile", "infer_schema", "iter_export", "load_export"]

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")


_READ = 4 * 2**20  # characters read at a time


def load_export(path: str | Path) -> list[dict[str, Any]]:
    """The tasks of a Label Studio JSON export file, as a list (for a large file prefer
    :class:`ExportFile`, which never holds them all).

    Raises
    ------
    InvalidOptionError
        When the file does not exist or cannot be read.
    InvalidTasksError
        When it is not JSON, or not a list of task objects.
    """
    return list(iter_export(path))


def iter_export(path: str | Path) -> Iterator[dict[str, Any]]:
    """The tasks of a JSON export file one at a time, parsed as the file is read (a few MB of
    it in memory at once, whatever its size).

    Raises
    ------
    InvalidOptionError, InvalidTasksError
        As :func:`load_export`; an error in the JSON is found when the reading reaches it.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidOptionError(f"export file {str(path)!r} does not exist.")
    try:  # UTF-8, or what a byte order mark says (an export saved again on Windows)
        with path.open("rb") as raw:
            encoding = json.detect_encoding(raw.read(4))
        handle = path.open(encoding=encoding)
    except OSError as exc:
        raise InvalidOptionError(f"cannot read export file {str(path)!r}: {exc}") from exc
    with handle:
        yield from _ExportReader(path, handle).tasks()


class _ExportReader:
    """Streaming parse of a top-level JSON list of objects with ``json.JSONDecoder.raw_decode``
    on a sliding window of the file."""

    def __init__(self, path: Path, handle: Any) -> None:
        self.path = path
        self.handle = handle
        self.buffer = ""
        self.pos = 0
        self.lines_before = 0  # newlines in the text already dropped from the buffer
        self.columns_before = 0  # characters after the last dropped newline
        self.eof = False
        self.decoder = json.JSONDecoder()

    def _more(self) -> bool:
        if self.eof:
            return False
        try:
            chunk = self.handle.read(_READ)
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidOptionError(f"cannot read export file {str(self.path)!r}: {exc}") from exc
        if not chunk:
            self.eof = True
            return False
        dropped = self.buffer[: self.pos]
        newlines = dropped.count("\n")
        self.lines_before += newlines
        self.columns_before = (
            len(dropped) - dropped.rfind("\n") - 1
            if newlines
            else self.columns_before + len(dropped)
        )
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return True

    def _skip_space(self) -> str:
        """The next non-blank character (not consumed); "" at the end of the file."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._more():
                return ""

    def _invalid(self, message: str, at: int) -> InvalidTasksError:
        head = self.buffer[:at]
        line = self.lines_before + head.count("\n") + 1
        column = (at - head.rfind("\n")) if "\n" in head else self.columns_before + at + 1
        return InvalidTasksError(
            f"export file {str(self.path)!r} is not valid JSON (line {line}, column {column}: "
            f"{message})."
        )

    def tasks(self) -> Iterator[dict[str, Any]]:
        first = self._skip_space()
        if first != "[":
            if first == "":
                raise self._invalid("Expecting value", self.pos)
            value = self._value()  # report what the file holds, as a whole-file parse would
            lines = isinstance(value, dict) and self._skip_space() == "{"
            raise InvalidTasksError(
                f"export file {str(self.path)!r} holds a JSON {type(value).__name__}"
                f"{' and more after it (JSON lines?)' if lines else ''}, not the list of tasks "
                "of a Label Studio JSON export."
            )
        self.pos += 1
        position = 0
        if self._skip_space() == "]":
            self.pos += 1
            self._expect_end()
            return
        while True:
            task = self._value()
            if not isinstance(task, dict):
                raise InvalidTasksError(
                    f"export file {str(self.path)!r}: item {position} is a "
                    f"{type(task).__name__}, not a task object."
                )
            yield task
            position += 1
            after = self._skip_space()
            if after == ",":
                self.pos += 1
                continue
            if after == "]":
                self.pos += 1
                self._expect_end()
                return
            raise self._invalid("Expecting ',' delimiter", self.pos)

    def _value(self) -> Any:
        self._skip_space()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                if self._more():  # the value may continue in the next part of the file
                    continue
                raise self._invalid(exc.msg, exc.pos) from None
            if end == len(self.buffer) and not isinstance(value, (dict, list, str)):
                if self._more():  # a number cut at the end of the window
                    continue
            self.pos = end
            return value

    def _expect_end(self) -> None:
        if self._skip_space() != "":
            raise self._invalid("Extra data", self.pos)


class ExportFile(Sequence[dict[str, Any]]):
    """The tasks of a JSON export file, read again from the file on every pass
    (:func:`iter_export`) instead of held in memory: a sequence for the audit, its length known
    after the first pass.

    Raises
    ------
    InvalidOptionError
        When the file does not exist.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InvalidOptionError(f"export file {str(self.path)!r} does not exist.")
        self._length: int | None = None

    def __repr__(self) -> str:
        return f"ExportFile({str(self.path)!r})"

    def __iter__(self) -> Iterator[dict[str, Any]]:
        count = 0
        for task in iter_export(self.path):
            count += 1
            yield task
        self._length = count

    def __len__(self) -> int:
        if self._length is None:
            self._length = sum(1 for _ in iter_export(self.path))
        return self._length

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            if (index.start or 0) >= 0 and (index.stop is not None and index.stop >= 0):
                return list(islice(iter(self), index.start, index.stop, index.step))
            return list(self)[index]
        position = index + len(self) if index < 0 else index
        found = next(islice(iter(self), position, None), None)
        if position < 0 or found is None:
            raise IndexError(f"task {index} of an export of {len(self)}")
        return found


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


def _check_first(tasks: Sequence[Any]) -> None:
    """Name an empty, malformed or JSON-MIN export as such (rather than as one without
    choices)."""
    first = next(iter(tasks), None)
    if first is None:
        raise InvalidTasksError(
            "the export holds no tasks (an empty list): export a project that has tasks."
        )
    if isinstance(first, Mapping):
        task_parts(first, 0, set())


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
        When there is no ``choices`` result, several tags and no ``choices_name``, one class,
        or no task data field to read (InvalidTasksError: no task, or a malformed first task).
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
        _check_first(tasks)
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
    seen_classes = sorted(classes[(from_name, to_name)])
    if len(seen_classes) == 1:
        raise LabelConfigError(
            f"every choice of {from_name!r} in the tasks is {seen_classes[0]!r}, so a schema "
            "inferred from them has a single class and nothing to tell apart; pass the "
            "project's label config, whose Choices name the other classes."
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
        classes=tuple(seen_classes),
        multi_label=multi[(from_name, to_name)],
    )


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
