"""Review queues in Label Studio: which tasks go in which Data Manager tab, and the predictions
that carry them.

Every audited task gets one prediction of the audit's ``model_version``: the suggested labels
(for a task nobody labelled yet, the model's pre-annotation), scored by the task's review
priority (unlabelled tasks: the model's uncertainty), so that sorting by "Prediction score" puts
the worst first. The prediction's result also carries, in its ``meta``, the queues the task
belongs to as marker strings (``lscl:error`` ...) and the top reasons. Label Studio keeps
``meta`` and its Data Manager filters ``predictions_results`` with ``contains``, so each tab is
simply "results contain the marker, ordered by prediction score, descending". Each pushed run
tags its markers with its run id (:func:`run_marker`) and its tabs filter on those, so a re-run's
tabs follow it as soon as its predictions are in, with no task data ever written.

The queues:

=======================  ===================================================================
``Likely label errors``  labelled tasks with any issue: a label missing, spurious, breaking a
                         rule, or disputed by the annotators where the audit doubts it
``Likely missing labels`` labelled tasks with a label probably missing
``Annotators disagree``  tasks whose annotators disagree on a class the audit doubts
``Uncertain (unlabeled)`` tasks nobody labelled, most uncertain first (active learning)
=======================  ===================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ls_cleanlab.audit import LabelAudit
from ls_cleanlab.pipeline.prediction_list import QueuePredictions
from ls_cleanlab.studio import LabelSchema

__all__ = ["QUEUES", "Queue", "queue_members", "queue_predictions", "queue_view", "run_marker"]


@dataclass(frozen=True)
class Queue:
    """One review tab: a key, the tab's title, the marker string, and the issue kinds it holds."""

    key: str
    title: str
    marker: str
    kinds: tuple[str, ...]


QUEUES: tuple[Queue, ...] = (
    Queue(
        "errors",
        "Likely label errors",
        "lscl:error",
        ("missing", "spurious", "rule", "disagreement"),
    ),
    Queue("missing", "Likely missing labels", "lscl:missing", ("missing",)),
    Queue("disagree", "Annotators disagree", "lscl:disagree", ("disagreement",)),
    Queue("uncertain", "Uncertain (unlabeled)", "lscl:uncertain", ()),
)


def queue_members(audit: LabelAudit, labelled: np.ndarray) -> dict[str, np.ndarray]:
    """Rows (task positions) of each queue, in review order (worst first).

    Parameters
    ----------
    audit : LabelAudit
    labelled : np.ndarray of bool, shape (n,)
        Tasks with at least one annotation.
    """
    issues = audit.issues
    members: dict[str, np.ndarray] = {}
    for queue in QUEUES:
        if queue.key == "uncertain":
            rows = np.flatnonzero(~labelled)
            order = np.argsort(-audit.uncertainty[rows], kind="stable")
        else:
            picked = issues["task"][issues["kind"].isin(queue.kinds)].to_numpy(dtype=np.int64)
            rows = np.unique(picked)
            rows = rows[labelled[rows]]
            order = np.argsort(-audit.priority[rows], kind="stable")
        members[queue.key] = rows[order]
    return members


def run_marker(queue: Queue, run: str | None) -> str:
    """The marker predictions of run ``run`` carry for ``queue`` (``lscl:error#<run>``; the
    queue's own marker without a run). Each run's tabs filter on its own markers, so a tab never
    shows tasks of two runs; run ids have a fixed width, so no marker is part of another."""
    return queue.marker if run is None else f"{queue.marker}#{run}"


def queue_predictions(
    schema: LabelSchema,
    task_ids: Sequence[int] | np.ndarray,
    audit: LabelAudit,
    labelled: np.ndarray,
    *,
    model_version: str,
    chosen: np.ndarray | None = None,
    members: Mapping[str, np.ndarray] | None = None,
    run: str | None = None,
) -> QueuePredictions:
    """One prediction per task: suggested labels, priority as score, and in the result's
    ``meta`` the task's queues, its top reasons and every class's estimated probability of
    presence (``scores``, the per-choice scores). Built on demand, a block at a time
    (:class:`~ls_cleanlab.pipeline.prediction_list.QueuePredictions`, a sequence of dicts).

    Parameters
    ----------
    schema : LabelSchema
    task_ids : array_like of int, shape (n,)
        Label Studio ids of the audit's rows.
    audit : LabelAudit
    labelled : np.ndarray of bool, shape (n,)
    model_version : str
    chosen : np.ndarray of 0/1, shape (n, K), optional
        Pre-annotations for unlabelled tasks (e.g. a trained model's thresholded predictions);
        default ``audit.suggested``. Labelled tasks always get ``audit.suggested``.
    members : dict, optional
        :func:`queue_members` if already computed.
    run : str, optional
        The run the predictions belong to: their markers carry it (:func:`run_marker`).
    """
    ids = np.asarray(task_ids, dtype=np.int64)
    members = queue_members(audit, labelled) if members is None else members
    labels = np.asarray(audit.suggested)
    if chosen is not None:
        labels = np.where(labelled[:, None], labels, np.asarray(chosen))
    if not schema.multi_label:  # exactly one choice: the most likely when nothing is suggested
        empty = labels.sum(axis=1) != 1
        labels = labels.copy()
        labels[empty] = 0
        labels[empty, np.argmax(audit.present[empty], axis=1)] = 1
    scores = np.where(labelled, audit.priority, audit.uncertainty)
    scores = np.clip(np.nan_to_num(scores), 0.0, 1.0)
    markers = [(run_marker(queue, run), members[queue.key]) for queue in QUEUES]
    return QueuePredictions(schema, ids, audit, labels, scores, markers,
                            model_version=model_version)  # fmt: skip


def queue_view(queue: Queue, run: str | None = None) -> dict[str, Any]:
    """The Data Manager filters and ordering of a queue's tab (for ``StudioClient.ensure_view``):
    the predictions of run ``run`` that carry the queue's marker."""
    item = {
        "filter": "filter:tasks:predictions_results",
        "operator": "contains",
        "type": "String",
        "value": run_marker(queue, run),
    }
    return {
        "filters": {"conjunction": "and", "items": [item]},
        "ordering": ["-tasks:predictions_score"],
    }
