"""Who labelled what: a long-form table of annotations as numpy arrays.

One row per annotation: the task it belongs to (an index into the ``n`` tasks of the audit),
the annotator who made it, the 0/1 label set over the ``K`` classes, and optionally the time it
took (``lead_time``, seconds), when it was made (``created_at``) and whether it is a ground-truth
annotation. Single-label projects use the same table with exactly one class per row.

The table is validated once, when built, and never changes afterwards; every array is read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ls_cleanlab.errors import InvalidAnnotationsError
from ls_cleanlab.validation import check_int

__all__ = ["Annotations", "as_seconds", "check_annotations"]


def _rows(mask: np.ndarray, limit: int = 5) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{shown}{more}"


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value, so a message shows ``'a'``, not ``np.str_('a')``."""
    return value.item() if isinstance(value, np.generic) else value


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


def as_seconds(values: Any, name: str, size: int) -> np.ndarray | None:
    """Times as float64 seconds: numbers as given; datetimes and ISO strings since the epoch."""
    if values is None:
        return None
    array = np.asarray(values)
    if array.shape != (size,):
        raise InvalidAnnotationsError(
            f"{name} must have one value per annotation, shape ({size},); got {array.shape}."
        )
    if array.dtype.kind in "biuf":
        out = array.astype(np.float64)
    elif array.dtype.kind == "M":
        as_ns = array.astype("datetime64[ns]")
        out = as_ns.astype(np.int64).astype(np.float64) / 1e9
        out[np.isnat(as_ns)] = np.nan
    else:
        import pandas as pd

        try:
            stamps = pd.to_datetime(pd.Series(array, dtype=object), utc=True, format="mixed")
        except (ValueError, TypeError) as exc:
            raise InvalidAnnotationsError(
                f"{name} must hold numbers, datetimes or ISO 8601 strings: {exc}"
            ) from exc
        epoch = pd.Timestamp(0, tz="UTC")
        out = (stamps - epoch).dt.total_seconds().to_numpy(dtype=np.float64)
    if np.isinf(out).any():
        raise InvalidAnnotationsError(f"{name} is infinite in rows {_rows(np.isinf(out))}.")
    if name == "lead_time" and (out < 0).any():
        raise InvalidAnnotationsError(f"lead_time is negative in rows {_rows(out < 0)}.")
    return out


@dataclass(frozen=True, eq=False)
class Annotations:
    """Annotations of ``n`` tasks over ``K`` classes by several annotators, one row each.

    Parameters
    ----------
    task : array_like of int, shape (A,)
        Index of the annotated task, in ``[0, n)``.
    annotator : array_like, shape (A,)
        Who made each annotation (ids of any hashable scalar type, e.g. Label Studio user ids).
    labels : array_like of 0/1, shape (A, K)
        The label set of each annotation; an all-zero row is an empty label set (valid in
        multi-label projects).
    lead_time : array_like of float, shape (A,), optional
        Seconds spent on each annotation; NaN where unknown.
    created_at : array_like, shape (A,), optional
        When each annotation was made: seconds since the epoch, ``datetime64`` values or ISO 8601
        strings; stored as float seconds since the epoch, NaN where unknown.
    ground_truth : array_like of bool, shape (A,), optional
        Annotations marked as ground truth in Label Studio.

    Raises
    ------
    InvalidAnnotationsError
        On mismatched lengths, labels other than 0/1, negative task indices, missing annotator
        ids, or one annotator annotating one task twice (keep the latest before building).
    """

    task: np.ndarray
    annotator: np.ndarray
    labels: np.ndarray
    lead_time: np.ndarray | None = None
    created_at: np.ndarray | None = None
    ground_truth: np.ndarray | None = None
    #: (A,) int codes of ``annotator`` into :attr:`annotator_ids`.
    annotator_index: np.ndarray = field(init=False, repr=False)
    #: The distinct annotator ids, in order of first appearance.
    annotator_ids: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        labels = np.asarray(self.labels)
        if labels.ndim != 2:
            raise InvalidAnnotationsError(
                f"labels must be 2-D with shape (A, K) of 0/1 values, got shape {labels.shape}."
            )
        size, n_classes = labels.shape
        if n_classes == 0:
            raise InvalidAnnotationsError("labels has no classes (shape (A, 0)).")
        if labels.dtype.kind not in "biuf":
            raise InvalidAnnotationsError(
                f"labels must hold 0/1 numbers, got dtype {labels.dtype}."
            )
        bad = ~((labels == 0) | (labels == 1))
        if bad.any():
            raise InvalidAnnotationsError(
                f"labels must hold only 0 and 1; rows {_rows(bad.any(axis=1))} do not."
            )
        task = np.asarray(self.task)
        if task.shape != (size,):
            raise InvalidAnnotationsError(
                f"task must have one entry per row of labels, shape ({size},); got {task.shape}."
            )
        if size and task.dtype.kind not in "iu":
            if task.dtype.kind == "f" and np.all(np.isfinite(task)) and np.all(task == task // 1):
                task = task.astype(np.int64)
            else:
                raise InvalidAnnotationsError(
                    f"task must hold integer task indices, got dtype {task.dtype}."
                )
        task = task.astype(np.int64)
        if (task < 0).any():
            raise InvalidAnnotationsError(f"task is negative in rows {_rows(task < 0)}.")
        annotator = np.asarray(self.annotator)
        if annotator.shape != (size,):
            raise InvalidAnnotationsError(
                f"annotator must have one id per row of labels, shape ({size},); "
                f"got {annotator.shape}."
            )
        if annotator.dtype.kind == "O":
            missing = np.array([a is None or a != a for a in annotator], dtype=bool)
        elif annotator.dtype.kind == "f":
            missing = np.isnan(annotator)
        else:
            missing = np.zeros(size, dtype=bool)
        if missing.any():
            raise InvalidAnnotationsError(f"annotator is missing in rows {_rows(missing)}.")
        ids, first, codes = np.unique(annotator, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        codes = rank[codes.reshape(-1)]
        ids = ids[order]
        if size:
            pair = task * len(ids) + codes
            _, where, count = np.unique(pair, return_index=True, return_counts=True)
            if (count > 1).any():
                dup = where[count > 1][0]
                raise InvalidAnnotationsError(
                    f"annotator {_plain(annotator[dup])!r} annotated task {task[dup]} more than "
                    f"once ({int((count - 1).sum())} duplicate rows in all); keep one annotation "
                    "per annotator and task (Annotations.latest_per_annotator does that)."
                )
        ground_truth = None
        if self.ground_truth is not None:
            ground_truth = np.asarray(self.ground_truth)
            if ground_truth.shape != (size,):
                raise InvalidAnnotationsError(
                    f"ground_truth must have shape ({size},); got {ground_truth.shape}."
                )
            ground_truth = _frozen(ground_truth.astype(bool))
        set_ = object.__setattr__
        set_(self, "task", _frozen(task))
        set_(self, "annotator", _frozen(annotator))
        set_(self, "labels", _frozen(labels.astype(np.int8)))
        set_(self, "lead_time", self._times(self.lead_time, "lead_time", size))
        set_(self, "created_at", self._times(self.created_at, "created_at", size))
        set_(self, "ground_truth", ground_truth)
        set_(self, "annotator_index", _frozen(codes.astype(np.int64)))
        set_(self, "annotator_ids", _frozen(ids))

    @staticmethod
    def _times(values: Any, name: str, size: int) -> np.ndarray | None:
        out = as_seconds(values, name, size)
        return None if out is None else _frozen(out)

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def from_class_indices(
        cls,
        task: Any,
        annotator: Any,
        labels: Any,
        n_classes: int,
        **optional: Any,
    ) -> Annotations:
        """Single-label annotations given as one class index per row.

        ``labels`` is ``(A,)`` integers in ``[0, n_classes)``; the other arguments are as for the
        constructor.
        """
        index = np.asarray(labels)
        if index.ndim != 1 or (index.size and index.dtype.kind not in "iu"):
            raise InvalidAnnotationsError(
                f"labels must be a 1-D array of class indices, got shape {index.shape} "
                f"and dtype {index.dtype}."
            )
        bad = (index < 0) | (index >= n_classes)
        if bad.any():
            raise InvalidAnnotationsError(
                f"labels must lie in [0, {n_classes}); rows {_rows(bad)} do not."
            )
        onehot = np.zeros((len(index), n_classes), dtype=np.int8)
        onehot[np.arange(len(index)), index] = 1
        return cls(task=task, annotator=annotator, labels=onehot, **optional)

    @classmethod
    def from_labels(cls, labels: Any, annotator: Any = "labels") -> Annotations:
        """One annotator who labelled every task: ``labels`` is the ``(n, K)`` 0/1 matrix."""
        matrix = np.asarray(labels)
        if matrix.ndim != 2:
            raise InvalidAnnotationsError(
                f"labels must be 2-D with shape (n, K), got shape {matrix.shape}."
            )
        n = len(matrix)
        return cls(task=np.arange(n), annotator=np.full(n, annotator, dtype=object), labels=matrix)

    @classmethod
    def from_frame(
        cls, frame: Any, class_names: Sequence[str], *, labels_column: str = "labels"
    ) -> Annotations:
        """Build from a DataFrame with columns ``task``, ``annotator`` and ``labels``.

        ``labels`` holds, per row, a list of class names (or one name per row for single-label);
        optional columns ``lead_time``, ``created_at`` and ``ground_truth`` are used when present.
        """
        for column in ("task", "annotator", labels_column):
            if column not in frame.columns:
                raise InvalidAnnotationsError(
                    f"the annotations table has no {column!r} column; it has {list(frame.columns)}."
                )
        position = {name: k for k, name in enumerate(class_names)}
        matrix = np.zeros((len(frame), len(class_names)), dtype=np.int8)
        for row, value in enumerate(frame[labels_column].tolist()):
            names = [value] if isinstance(value, str) else value
            if not isinstance(names, (Sequence, np.ndarray, set, frozenset)):
                raise InvalidAnnotationsError(
                    f"row {row} of the annotations table has {labels_column} {value!r}, not a "
                    "class name or a list of them; an empty label set is an empty list []."
                )
            for name in names:
                if name not in position:
                    raise InvalidAnnotationsError(
                        f"row {row} of the annotations table has label {name!r}, which is not "
                        f"one of the {len(class_names)} classes."
                    )
                matrix[row, position[name]] = 1
        optional = {
            name: frame[name].to_numpy()
            for name in ("lead_time", "created_at", "ground_truth")
            if name in frame.columns
        }
        return cls(
            task=frame["task"].to_numpy(),
            annotator=frame["annotator"].to_numpy(),
            labels=matrix,
            **optional,
        )

    # -- views ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.task)

    @property
    def n_classes(self) -> int:
        """K, the number of classes."""
        return int(self.labels.shape[1])

    @property
    def n_annotators(self) -> int:
        """The number of distinct annotators."""
        return len(self.annotator_ids)

    @property
    def is_single_label(self) -> bool:
        """True when every annotation holds exactly one class."""
        return bool(len(self)) and bool((self.labels.sum(axis=1) == 1).all())

    def class_indices(self) -> np.ndarray:
        """``(A,)`` class index of each row; only for single-label annotations."""
        if not self.is_single_label:
            raise InvalidAnnotationsError(
                "class_indices needs exactly one class per annotation; these are multi-label."
            )
        return np.argmax(self.labels, axis=1)

    def check_tasks(self, n_tasks: int) -> None:
        """Raise unless every task index lies in ``[0, n_tasks)``."""
        bad = self.task >= n_tasks
        if bad.any():
            raise InvalidAnnotationsError(
                f"task indices must lie in [0, {n_tasks}) for {n_tasks} tasks; rows {_rows(bad)} "
                f"point past the end (largest index {int(self.task.max())})."
            )

    def subset(self, rows: Any) -> Annotations:
        """The annotations at ``rows`` (a boolean mask or indices), as a new table."""

        def pick(array: np.ndarray | None) -> np.ndarray | None:
            return None if array is None else array[rows]

        return Annotations(
            task=self.task[rows],
            annotator=self.annotator[rows],
            labels=self.labels[rows],
            lead_time=pick(self.lead_time),
            created_at=pick(self.created_at),
            ground_truth=pick(self.ground_truth),
        )

    def to_frame(self, class_names: Sequence[str] | None = None) -> Any:
        """A pandas DataFrame with one row per annotation and ``labels`` as lists of names."""
        import pandas as pd

        names = list(class_names) if class_names is not None else list(range(self.n_classes))
        sets = [[names[k] for k in np.flatnonzero(row)] for row in self.labels]
        columns: dict[str, Any] = {
            "task": self.task,
            "annotator": self.annotator,
            "labels": sets,
        }
        if self.lead_time is not None:
            columns["lead_time"] = self.lead_time
        if self.created_at is not None:
            columns["created_at"] = pd.to_datetime(self.created_at, unit="s", utc=True)
        if self.ground_truth is not None:
            columns["ground_truth"] = self.ground_truth
        return pd.DataFrame(columns)

    @staticmethod
    def latest_per_annotator(task: Any, annotator: Any, created_at: Any) -> np.ndarray:
        """Rows to keep so that each (task, annotator) pair has one annotation, the latest.

        Returns a sorted index array; ties and unknown times keep the later row.
        """
        frame_task = np.asarray(task)
        _, codes = np.unique(np.asarray(annotator), return_inverse=True)
        codes = codes.reshape(-1)
        times = as_seconds(created_at, "created_at", len(frame_task))
        if times is None:
            raise InvalidAnnotationsError("latest_per_annotator needs created_at times.")
        times = np.where(np.isnan(times), -np.inf, times)
        rows = np.arange(len(frame_task))
        order = np.lexsort((rows, times, codes, frame_task))
        pair = frame_task[order].astype(np.int64) * (codes.max(initial=0) + 1) + codes[order]
        last = np.ones(len(order), dtype=bool)
        last[:-1] = pair[1:] != pair[:-1]
        return np.sort(order[last])


def check_annotations(annotations: Any, n_tasks: Any) -> int:
    """Check that ``annotations`` is an :class:`Annotations` table over ``n_tasks`` tasks;
    return ``n_tasks`` as an ``int``."""
    if not isinstance(annotations, Annotations):
        raise InvalidAnnotationsError(
            f"annotations must be an Annotations table, got {type(annotations).__name__}; "
            "build one with Annotations(task=..., annotator=..., labels=...)."
        )
    n = check_int(n_tasks, "n_tasks", low=0)
    annotations.check_tasks(n)
    return n
