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
tabs follow it as soon as its predictions are in, with no task data ever written. A tab shows
the task's image (thumbnail) or text, its id, the review priority ("Prediction score"), the
prediction's result (suggested labels, reasons and tabs first, so it reads as words), the
annotators and the annotation count; Label Studio's other columns are hidden.

The queues:

=======================  ===================================================================
``Likely label errors``  labelled tasks whose audited labels are probably wrong: a label
                         missing or spurious, or a rule broken; by default as many tasks as
                         the audit expects to be wrong (its threshold fixes a probability)
``Likely missing labels`` labelled tasks probably missing a label
``Annotators disagree``  the other tasks on which the annotators split, or all overruled by
                         the consensus: the consensus is confident there (annotator feedback)
``Uncertain (unlabeled)`` tasks nobody labelled, most uncertain first (active learning)
``Needs another annotator`` labelled tasks where one more annotation pays most
                         (:mod:`.next_annotator`)
=======================  ===================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.audit import LabelAudit
from ls_cleanlab.pipeline.next_annotator import next_annotator_rows
from ls_cleanlab.pipeline.prediction_list import QueuePredictions
from ls_cleanlab.studio import LabelSchema

__all__ = [
    "QUEUES",
    "SHOWN_COLUMNS",
    "Queue",
    "hidden_columns",
    "queue_expected",
    "queue_members",
    "queue_precision",
    "queue_predictions",
    "queue_view",
    "run_marker",
]


@dataclass(frozen=True)
class Queue:
    """One review tab: a key, the tab's title, the marker string, and the issue kinds it holds."""

    key: str
    title: str
    marker: str
    kinds: tuple[str, ...]


QUEUES: tuple[Queue, ...] = (
    Queue("errors", "Likely label errors", "lscl:error", ("missing", "spurious", "rule")),
    Queue("missing", "Likely missing labels", "lscl:missing", ("missing",)),
    Queue("disagree", "Annotators disagree", "lscl:disagree", ("disagreement",)),
    Queue("uncertain", "Uncertain (unlabeled)", "lscl:uncertain", ()),
    Queue("next", "Needs another annotator", "lscl:next", ()),
)


def queue_expected(audit: LabelAudit) -> dict[str, float]:
    """Per review tab of errors, how many labelled tasks the audit expects to have that tab's
    problem in all: the sum of their calibrated probabilities
    (:attr:`~ls_cleanlab.audit.LabelAudit.expected_issues`), rounded to 0.1. ``errors`` always,
    ``missing`` for multi-label audits; a tab's size set beside it shows whether the threshold
    leaves problems out."""
    expected = audit.expected_issues
    return {key: round(expected[key], 1) for key in ("errors", "missing") if key in expected}


def queue_precision(audit: LabelAudit) -> dict[str, float]:
    """Per review tab of errors, its expected precision: the mean probability that its tasks
    have its problem (:attr:`~ls_cleanlab.audit.LabelAudit.expected_precision`), rounded to
    0.01; a tab that is empty is left out."""
    shown = audit.expected_precision.items()
    return {key: round(value, 2) for key, value in shown if np.isfinite(value)}


def queue_members(
    audit: LabelAudit,
    labelled: np.ndarray,
    *,
    annotations: Annotations | None = None,
    pred_probs: np.ndarray | None = None,
    next_rows: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Rows (task positions) of each queue, in review order (worst first).

    Parameters
    ----------
    audit : LabelAudit
    labelled : np.ndarray of bool, shape (n,)
        Tasks with at least one annotation.
    annotations, pred_probs : optional
        The audit's annotations and probabilities, for "Needs another annotator" (empty without
        them).
    next_rows : np.ndarray, optional
        That tab's rows, computed elsewhere (on a worker: :func:`~ls_cleanlab.pipeline.stages.
        next_rows`).
    """
    issues = audit.issues
    members: dict[str, np.ndarray] = {}
    for queue in QUEUES:
        if queue.key == "next":  # its own module: the value of one more annotation
            members[queue.key] = (
                next_annotator_rows(
                    pred_probs, labelled, annotations, multi_label=audit.multi_label
                )
                if next_rows is None
                else next_rows
            )
            continue
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


#: Task fields shown in a tab's table (``explore``, besides the labelled object's data: the image
#: as a thumbnail, or the text) and in the list beside the labeling view (``labeling``), where
#: the prediction's result puts the open task's suggested labels and reasons beside it.
SHOWN_COLUMNS = {
    "explore": ("id", "predictions_score", "predictions_results", "annotators",
                "total_annotations"),
    "labeling": ("id", "predictions_results"),
}  # fmt: skip
#: Pixels of the prediction's result column: three lines hold the labels and the first reason.
RESULTS_WIDTH = 360


def hidden_columns(columns: Sequence[Mapping[str, Any]], schema: LabelSchema) -> dict[str, Any]:
    """A tab's ``hiddenColumns``: every Data Manager column of the project but
    :data:`SHOWN_COLUMNS` (and, in the table, the labelled object's data).

    ``columns`` is the project's column list (``/api/dm/columns``). Label Studio 1.23.2 reads
    ``{"explore": [...], "labeling": [...]}`` of column keys ``tasks:<id>`` (``tasks:data.<key>``
    for task data) and needs both lists; keys it does not know would break the tab, so only
    columns it listed are named.
    """
    keys: list[tuple[str, str]] = []
    for column in columns:
        if column.get("target", "tasks") != "tasks" or "children" in column:
            continue
        ident = str(column["id"])
        keys.append((ident if column.get("parent") != "data" else f"data.{ident}", ident))
    hidden: dict[str, Any] = {}
    for mode, shown in SHOWN_COLUMNS.items():
        # the labeling view shows the object itself: its list keeps room for the reasons
        keep = {*shown, f"data.{schema.data_key}"} if mode == "explore" else set(shown)
        hidden[mode] = [f"tasks:{key}" for key, _ in keys if key not in keep]
    return hidden


def queue_view(
    queue: Queue,
    columns: Sequence[Mapping[str, Any]] = (),
    schema: LabelSchema | None = None,
    *,
    run: str | None = None,
) -> dict[str, Any]:
    """The Data Manager filters, ordering and (given the project's ``columns`` and ``schema``)
    hidden columns of a queue's tab (for ``StudioClient.ensure_view``): the predictions of run
    ``run`` that carry the queue's marker."""
    item = {
        "filter": "filter:tasks:predictions_results",
        "operator": "contains",
        "type": "String",
        "value": run_marker(queue, run),
    }
    return {
        "filters": {"conjunction": "and", "items": [item]},
        "ordering": ["-tasks:predictions_score"],
        "hidden_columns": hidden_columns(columns, schema) if columns and schema else None,
        "columns_width": {"tasks:predictions_results": RESULTS_WIDTH} if columns else None,
    }
