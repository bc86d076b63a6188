"""The predictions that carry the review queues, made on demand in blocks instead of all at once.

A million predictions of 50 classes each, as Python dicts, take about 5 GB; the arrays they are
made from take a few hundred MB. :class:`QueuePredictions` keeps the arrays and builds the JSON
of whatever slice is asked for: pushing them in chunks of 10,000, writing them to a file or
validating them one after the other never holds more than a block.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np

from ls_cleanlab.audit import LabelAudit
from ls_cleanlab.studio import LabelSchema, prediction_json
from ls_cleanlab.studio.predictions import reasons_result

__all__ = ["BLOCK", "QueuePredictions"]

#: Predictions built per block when iterating.
BLOCK = 10_000
#: Reasons kept per task in the prediction.
REASONS = 3


class QueuePredictions(Sequence[dict[str, Any]]):
    """One prediction per audited task, built when read (see the module docs and
    :func:`~ls_cleanlab.pipeline.queues.queue_predictions`, which makes it).

    Parameters
    ----------
    schema : LabelSchema
    task_ids : np.ndarray of int, shape (n,)
    audit : LabelAudit
        Its ``present`` (per-class scores) and ``issues`` (the top reasons of each task).
    labels : np.ndarray of 0/1, shape (n, K)
        The chosen classes of each prediction.
    scores : np.ndarray, shape (n,)
        Prediction scores in [0, 1].
    markers : sequence of (str, np.ndarray)
        Each queue's marker and its member rows, in the order markers are listed.
    model_version : str
    """

    def __init__(
        self,
        schema: LabelSchema,
        task_ids: np.ndarray,
        audit: LabelAudit,
        labels: np.ndarray,
        scores: np.ndarray,
        markers: Sequence[tuple[str, np.ndarray]],
        *,
        model_version: str,
    ) -> None:
        n = len(task_ids)
        self.schema = schema
        self.model_version = model_version
        self._ids = np.asarray(task_ids, dtype=np.int64)
        self._labels = labels
        self._scores = scores
        self._present = audit.present
        self._markers = [(marker, _mask(rows, n)) for marker, rows in markers]
        ranked = audit.issues.sort_values(["task", "score"], ascending=[True, False],
                                          kind="stable")  # fmt: skip
        self._issue_task = ranked["task"].to_numpy(dtype=np.int64)
        self._issue_reason = ranked["reason"].to_numpy(dtype=object)

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self._one(row) for row in range(*index.indices(len(self)))]
        row = int(index)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"prediction {index} of {len(self)}")
        return self._one(row)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for start in range(0, len(self), BLOCK):
            yield from self[start : start + BLOCK]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"QueuePredictions({len(self)} tasks, model_version={self.model_version!r})"

    def _reasons(self, row: int) -> list[str]:
        lo, hi = np.searchsorted(self._issue_task, [row, row + 1])
        return [str(r) for r in self._issue_reason[lo : min(hi, lo + REASONS)]]

    def _one(self, row: int) -> dict[str, Any]:
        names = self.schema.classes
        present = np.clip(np.nan_to_num(self._present[row]), 0.0, 1.0)
        prediction = prediction_json(
            self.schema,
            int(self._ids[row]),
            [names[k] for k in np.flatnonzero(self._labels[row])],
            score=float(self._scores[row]),
            model_version=self.model_version,
        )
        result = prediction["result"][0]
        reasons = self._reasons(row)
        meta = {
            "reasons": reasons,
            "queues": [marker for marker, mask in self._markers if mask[row]],
            "scores": {name: round(float(p), 4) for name, p in zip(names, present, strict=True)},
        }
        # the Data Manager's "Prediction results" column shows the JSON as stored: the suggested
        # labels, the reasons and the tabs come first so the cell reads as words
        prediction["result"][0] = {"value": result.pop("value"), "meta": meta, **result}
        if self.schema.reasons_to is not None and reasons:
            # the project opted in (ls-cleanlab reasons --enable): the labeling view shows them
            prediction["result"].append(reasons_result(self.schema, reasons))
        return prediction

    def for_run(self, run: str, model_version: str) -> QueuePredictions:
        """The same predictions as a run of their own: version ``model_version``, markers
        tagged with ``run`` (a refresh that publishes a new run)."""
        made = copy.copy(self)
        made.model_version = model_version
        made._markers = [(f"{m.split('#')[0]}#{run}", mask) for m, mask in self._markers]
        return made


def _mask(rows: np.ndarray, n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[np.asarray(rows, dtype=np.int64)] = True
    return mask
