"""Review tabs of a bounding-box project, and the predictions that carry them.

Every audited task gets one prediction of the audit's run (version ``<model_version>-<run id>``,
:mod:`.runs`) holding the suggested boxes
(:attr:`~ls_cleanlab.pipeline.box_review.BoxReview.suggested`: the consensus objects, the likely
missing ones among them) as ``rectanglelabels`` results, each with its confidence as ``score``
and, in ``meta``, why it is suggested (``agreed``, ``missed`` by some annotator, or ``found`` by
the detector alone). As for classification (:mod:`.queues`), the first result's ``meta`` also
carries the task's tab markers (tagged with the run, :func:`.queues.run_marker`) and top reasons,
and each tab is "prediction results contain the run's marker, ordered by prediction score" (the
task's priority). A task in a tab with no box to suggest (its only boxes are likely spurious)
carries the box in question instead, marked ``"suggestion": "remove"`` with a low score, since a
marker needs a result to live in.

=========================  ============================================================
``Likely missing boxes``   labelled tasks with an object some annotator did not box
``Likely wrong boxes``     labelled tasks with a box of the wrong class, badly placed, or on
                           nothing
``Annotators disagree``    tasks whose annotators boxed an object differently
=========================  ============================================================
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ls_cleanlab.pipeline.box_review import WRONG_KINDS, BoxReview
from ls_cleanlab.pipeline.queues import Queue, run_marker
from ls_cleanlab.studio import Box, LabelSchema, box_prediction_json

__all__ = ["BOX_QUEUES", "box_queue_members", "box_queue_predictions"]

BOX_QUEUES: tuple[Queue, ...] = (
    Queue("missing", "Likely missing boxes", "lscl:box-missing", ("missing",)),
    Queue("wrong", "Likely wrong boxes", "lscl:box-wrong", WRONG_KINDS),
    Queue("disagree", "Annotators disagree", "lscl:box-disagree", ("disagreement",)),
)

_REASONS = 3


def box_queue_members(review: BoxReview, labelled: np.ndarray) -> dict[str, np.ndarray]:
    """Rows of each queue, in review order (highest priority first)."""
    issues = review.issues
    members = {}
    for queue in BOX_QUEUES:
        picked = issues["task"][issues["kind"].isin(queue.kinds)].to_numpy(dtype=np.int64)
        rows = np.unique(picked)
        rows = rows[labelled[rows]]
        members[queue.key] = rows[np.argsort(-review.priority[rows], kind="stable")]
    return members


def _carrier(review: BoxReview, row: int) -> Box | None:
    """The box of the task's top issue, as a region that can carry the markers."""
    found = review.issues[review.issues["task"] == row]
    if len(found) == 0:
        return None
    top = found.iloc[0]
    suggestion = "remove" if top["kind"] == "spurious" else "check"
    corners = (top["x1"], top["y1"], top["x2"], top["y2"])
    return Box.of(corners, str(top["class"]), 1 - float(top["score"]), {"suggestion": suggestion})


def box_queue_predictions(
    schema: LabelSchema,
    task_ids: Sequence[int] | np.ndarray,
    review: BoxReview,
    labelled: np.ndarray,
    *,
    model_version: str,
    members: Mapping[str, np.ndarray] | None = None,
    sizes: np.ndarray | None = None,
    run: str | None = None,
) -> list[dict[str, Any]]:
    """One prediction per audited task (see the module docstring).

    Parameters
    ----------
    schema : LabelSchema
    task_ids : array_like of int, shape (m,)
    review : BoxReview
    labelled : ndarray of bool, shape (m,)
    model_version : str
    members : dict, optional
        :func:`box_queue_members` if already computed.
    sizes : ndarray, shape (m, 2), optional
        Image sizes in pixels (NaN where unknown), stored as ``original_width/height``.
    run : str, optional
        The run the predictions belong to: their markers carry it (:func:`.queues.run_marker`).
    """
    ids = np.asarray(task_ids, dtype=np.int64)
    members = box_queue_members(review, labelled) if members is None else members
    markers: dict[int, list[str]] = {}
    for queue in BOX_QUEUES:
        for row in members[queue.key]:
            markers.setdefault(int(row), []).append(run_marker(queue, run))
    reasons: dict[int, list[str]] = {}
    for task, reason in zip(review.issues["task"], review.issues["reason"], strict=True):
        kept = reasons.setdefault(int(task), [])
        if len(kept) < _REASONS:
            kept.append(str(reason))
    s = review.suggested
    starts = np.searchsorted(s.task, np.arange(len(ids) + 1))
    names = schema.classes
    out = []
    for row, task_id in enumerate(ids.tolist()):
        span = range(starts[row], starts[row + 1])
        boxes = [
            Box.of(s.boxes[j], names[int(s.labels[j])], s.score[j], {"suggestion": s.kind[j]})
            for j in span
        ]
        if row in markers and not boxes:
            carrier = _carrier(review, row)
            boxes = [carrier] if carrier is not None else []
        if boxes and (row in markers or row in reasons):
            meta = {
                **boxes[0].meta,
                "queues": markers.get(row, []),
                "reasons": reasons.get(row, []),
            }
            boxes[0] = dataclasses.replace(boxes[0], meta=meta)
        if labelled[row]:
            score = float(review.priority[row])
        else:
            score = float(np.mean(s.score[starts[row] : starts[row + 1]])) if boxes else 0.0
        size = None
        if sizes is not None and np.isfinite(sizes[row]).all():
            size = (int(sizes[row, 0]), int(sizes[row, 1]))
        out.append(
            box_prediction_json(
                schema,
                task_id,
                boxes,
                score=min(max(score, 0.0), 1.0),
                model_version=model_version,
                size=size,
            )
        )
    return out
