"""The bounding-box task kind (a ``RectangleLabels`` tag on an ``Image``), end to end offline.

Task JSON -> :func:`~ls_cleanlab.studio.read_boxes` -> a detector's boxes (another model version's
predictions, a COCO-style file, or a detector trained here and cross-validated by image;
:mod:`.box_sources`, :mod:`.box_detector`) -> :func:`~ls_cleanlab.detection.audit_boxes` (several
annotators' boxes matched into objects, with the detector as evidence) -> issues, annotator and
class tables, suggested boxes (:mod:`.box_review`) -> review tabs and the predictions that carry
them (:mod:`.box_queues`).

With a detector, tasks whose image could not be loaded (or that the given predictions do not
cover) are left out, with the reason, as classification leaves out tasks without features; when
no detector can be had (too few labelled images, no media), the annotators' boxes are audited on
their own.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np

from ls_cleanlab.audit import Rules
from ls_cleanlab.detection import audit_boxes
from ls_cleanlab.errors import InvalidOptionError, InvalidTasksError, NoTasksError
from ls_cleanlab.features import FeatureCache
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.pipeline.box_detector import MAX_FOLDS, detector_evidence
from ls_cleanlab.pipeline.box_gold import (
    find_box_gold,
    gold_box_accuracy,
    known_boxes,
    with_box_gold,
)
from ls_cleanlab.pipeline.box_queues import BOX_QUEUES, box_queue_members, box_queue_predictions
from ls_cleanlab.pipeline.box_review import BoxReview, reindex_boxes, review_boxes
from ls_cleanlab.pipeline.box_sources import BoxEvidence, boxes_from_coco, boxes_from_version
from ls_cleanlab.pipeline.gold import reviewer_ids
from ls_cleanlab.pipeline.options import AuditOptions, Progress, ProjectAudit
from ls_cleanlab.pipeline.queues import Queue
from ls_cleanlab.pipeline.runs import run_version
from ls_cleanlab.pipeline.skips import task_skip_reason
from ls_cleanlab.studio import BoxTable, LabelSchema, read_boxes

__all__ = ["Boxes", "audit_box_table", "box_evidence"]


def box_evidence(
    tasks: Sequence[Mapping[str, Any]],
    table: BoxTable,
    schema: LabelSchema,
    options: AuditOptions,
    fetcher: MediaFetcher | None,
    executor: Executor | None,
    progress: Progress | None,
) -> BoxEvidence | None:
    """The detector boxes of an audit: ``options.from_model_version``'s predictions, the
    ``options.predictions_file``, or a detector fitted here (None when none can be had)."""
    if options.pred_probs is not None:
        raise InvalidOptionError(
            "pred_probs gives class probabilities for classification projects; for bounding "
            "boxes pass a detector's boxes as predictions_file (COCO-style JSON) or "
            "from_model_version."
        )
    if options.from_model_version is not None and options.predictions_file is not None:
        raise InvalidOptionError("give from_model_version or predictions_file, not both.")
    if options.from_model_version is not None:
        return boxes_from_version(tasks, table, schema, options.from_model_version)
    if options.predictions_file is not None:
        return boxes_from_coco(options.predictions_file, table, schema)
    if fetcher is None:
        return None
    return detector_evidence(
        table, schema, fetcher=fetcher, n_folds=min(options.n_folds, MAX_FOLDS),
        seed=options.seed, executor=executor, progress=progress,
    )  # fmt: skip


def _class_presence(review: BoxReview, m: int, k: int) -> np.ndarray:
    """(m, K) probability that an object of each class is on each task (the most likely one)."""
    c = review.boxes.consensus
    out = np.zeros((m, k))
    probability = np.nan_to_num(c.probability, nan=1.0)
    np.maximum.at(out, (c.image, c.labels), probability)
    return out


class Boxes:
    """The bounding-box task kind: a ``RectangleLabels`` tag over an ``Image``."""

    name = "boxes"
    queues: tuple[Queue, ...] = BOX_QUEUES

    def audit(
        self,
        tasks: Sequence[Mapping[str, Any]],
        schema: LabelSchema,
        *,
        options: AuditOptions,
        rules: Rules,
        fetcher: MediaFetcher | None = None,
        cache: FeatureCache | None = None,
        executor: Executor | None = None,
        progress: Progress | None = None,
        project: int | None = None,
    ) -> ProjectAudit[BoxReview]:
        """Audit task JSON, writing nothing (see :func:`ls_cleanlab.pipeline.audit_tasks`)."""
        if rules.implies or rules.excludes:
            raise InvalidOptionError(
                "rules (implies/excludes between classes) apply to classification projects, "
                "not to bounding boxes; drop --rules."
            )
        seconds: dict[str, float] = {}
        table = read_boxes(tasks, schema)
        n = len(table.task_ids)
        if n == 0:
            raise NoTasksError(project)
        start = time.perf_counter()
        evidence = box_evidence(tasks, table, schema, options, fetcher, executor, progress)
        seconds["features+model"] = time.perf_counter() - start
        start = time.perf_counter()
        if progress is not None:
            progress("audit", 0, 1)
        result = audit_box_table(table, schema, evidence, options=options, project=project)
        if progress is not None:
            progress("audit", 1, 1)
        seconds["audit"] = time.perf_counter() - start
        return dataclasses.replace(result, seconds=seconds)


def audit_box_table(
    table: BoxTable,
    schema: LabelSchema,
    evidence: BoxEvidence | None,
    *,
    options: AuditOptions,
    project: int | None = None,
) -> ProjectAudit[BoxReview]:
    """The audit of read boxes with a detector's boxes (or none): ``audit_boxes``, the review,
    the tabs and their predictions (shared by :class:`Boxes` and the refresh)."""
    n = len(table.task_ids)
    rows = np.flatnonzero(evidence.ok) if evidence is not None else np.arange(n)
    if len(rows) == 0:
        raise InvalidTasksError("no task could be audited: no image has detector boxes.")
    gold = find_box_gold(table, reviewer_ids(options))
    annotations = reindex_boxes(gold.crowd, rows)  # a gold annotation is the truth, not a vote
    detections = [evidence.predictions[r] for r in rows] if evidence is not None else None
    known = known_boxes(gold, rows) if gold.any else None  # measures the crowd everywhere
    audit = audit_boxes(annotations, detections, known=known)
    threshold = 0.5 if options.threshold is None else options.threshold  # boxes: a fixed bar
    review = review_boxes(audit, annotations, detections, schema.classes, threshold=threshold,
                          settled=gold.tasks[rows], names=options.annotator_names)  # fmt: skip
    accuracy = gold_box_accuracy(gold) if gold.any else None
    review = with_box_gold(review, gold, rows, accuracy)
    labelled = gold.tasks[rows].copy()
    if annotations.n_annotators:
        labelled |= np.asarray(annotations.seen.any(axis=1))
    members = box_queue_members(review, labelled)
    task_ids = table.task_ids[rows]
    version = run_version(options.model_version, options.run_id)
    predictions = box_queue_predictions(
        schema, task_ids, review, labelled, model_version=version, members=members,
        sizes=table.sizes[rows], run=options.run_id,
    )  # fmt: skip
    skipped, reasons = {}, {}
    if evidence is not None:
        skipped = {int(table.task_ids[r]): why for r, why in evidence.skipped.items()}
        reasons = {int(table.task_ids[r]): task_skip_reason(why, evidence.media_kinds.get(r))
                   for r, why in evidence.skipped.items()}  # fmt: skip
    return ProjectAudit(
        project=project, schema=schema, table=table, task_ids=task_ids, labelled=labelled,
        pred_probs=_class_presence(review, len(rows), schema.n_classes), audit=review,
        queues={key: task_ids[members[key]] for key in members}, predictions=predictions,
        skipped=skipped, source=evidence.source if evidence is not None else "annotators",
        model_version=version, run=options.run_id,
        trained=evidence.detector if evidence is not None else None,
        gold=gold.tasks[rows] if gold.any else None, gold_accuracy=accuracy,
        skip_reasons=reasons,
    )  # fmt: skip
