"""Incremental refreshes of a bounding-box project: re-audit from the stored detector boxes.

As for classification (:mod:`.refresh`): after a full audit, :func:`save_box_state` keeps each
audited task's detector boxes (and the signature of each prediction pushed) in the workspace;
when annotations change, :func:`refresh_box_project` fetches what changed, runs the saved
detector on new tasks only, re-runs the box audit without refitting, and pushes only the
predictions whose boxes, rounded score or tabs changed, into the project's current run
(:mod:`.runs`); above :data:`~.partial_push.PARTIAL_PUSH_LIMIT` changes it publishes a new run
instead and leaves the old one for the background cleanup.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from ls_cleanlab.features import FeatureCache
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.model.detector import BoxDetector
from ls_cleanlab.pipeline.box_detector import detect_images
from ls_cleanlab.pipeline.box_queues import BOX_QUEUES
from ls_cleanlab.pipeline.box_review import BoxReview
from ls_cleanlab.pipeline.box_sources import BoxEvidence, empty_predictions
from ls_cleanlab.pipeline.boxes import audit_box_table
from ls_cleanlab.pipeline.gold import resolve_reviewers
from ls_cleanlab.pipeline.options import AuditOptions, Progress, ProjectAudit
from ls_cleanlab.pipeline.partial_push import PARTIAL_PUSH_LIMIT, Refresh, push_some
from ls_cleanlab.pipeline.runs import current_run, new_run_id, publish_run
from ls_cleanlab.pipeline.snapshot import fetch_with_snapshot
from ls_cleanlab.pipeline.workspace import Workspace, write_atomic
from ls_cleanlab.studio import StudioClient, read_boxes

__all__ = ["box_signature", "refresh_box_project", "save_box_state"]

logger = logging.getLogger("ls_cleanlab")


def box_signature(prediction: Mapping[str, Any]) -> list[Any]:
    """What a refresh compares to decide whether a box prediction changed."""
    results = prediction["result"]
    boxes = sorted(
        [r["value"]["rectanglelabels"][0]]
        + [round(float(r["value"][k]), 2) for k in ("x", "y", "width", "height")]
        for r in results
    )
    queues = results[0].get("meta", {}).get("queues", []) if results else []
    return [boxes, round(float(prediction["score"]), 4), queues]


def save_box_state(workspace: Workspace, result: ProjectAudit[BoxReview]) -> None:
    """Keep each audited task's detector boxes and each pushed prediction's signature."""
    project = int(result.project or 0)
    detections = result.audit.detections
    rows, classes, corners = [], [], []
    for row, per_class in enumerate(detections or []):
        for k, boxes in enumerate(per_class):
            rows.extend([row] * len(boxes))
            classes.extend([k] * len(boxes))
            corners.extend(boxes.tolist())
    buffer = io.BytesIO()
    np.savez(
        buffer, task_ids=result.task_ids, has_detector=np.array(detections is not None),
        source=np.array(result.source), row=np.asarray(rows, dtype=np.int64),
        label=np.asarray(classes, dtype=np.int64),
        boxes=np.asarray(corners, dtype=np.float64).reshape(-1, 5),
        skipped_task=np.array(list(result.skipped), dtype=np.int64),
        skipped_why=np.array([str(w) for w in result.skipped.values()], dtype=str),
        skipped_kind=np.array([_kind(result.skip_reasons.get(t, "")) for t in result.skipped],
                              dtype=str),
    )  # fmt: skip
    write_atomic(workspace.box_state(project), buffer.getvalue())
    workspace.audit_state(project).unlink(missing_ok=True)  # a classification state is stale
    workspace.write_json(
        workspace.pushed(project), {str(p["task"]): box_signature(p) for p in result.predictions}
    )


def _kind(reason: str) -> str:
    """The ``MediaError.kind`` a skip reason code stands for ("" for other reasons)."""
    return reason.removeprefix("media_") if reason.startswith("media_") else ""


def _stored(workspace: Workspace, project: int, k: int) -> tuple[dict, bool, str, dict] | None:
    """(detector boxes by task id, whether there was a detector, source, (why, media kind) by
    task id the audit left out) or None."""
    path = workspace.box_state(project)
    if not path.is_file():
        return None
    with np.load(path) as saved:
        ids = saved["task_ids"].tolist()
        found = {int(t): empty_predictions(k) for t in ids}
        rows, labels, boxes = saved["row"], saved["label"], saved["boxes"]
        for r in np.unique(rows):
            mine = rows == r
            found[int(ids[r])] = [boxes[mine & (labels == c)] for c in range(k)]
        left = {}
        if "skipped_task" in saved.files:  # states saved before the left-out tasks were kept
            left = {
                int(t): (str(why), str(kind))
                for t, why, kind in zip(
                    saved["skipped_task"], saved["skipped_why"], saved["skipped_kind"], strict=True
                )
            }
        return found, bool(saved["has_detector"]), str(saved["source"]), left


def refresh_box_project(
    client: StudioClient,
    project: int,
    *,
    workspace: Workspace,
    options: AuditOptions,
    cache: FeatureCache | None = None,
    progress: Progress | None = None,
    partial_limit: int = PARTIAL_PUSH_LIMIT,
) -> Refresh:
    """Re-audit a box project from its stored detector boxes; push the predictions that changed,
    or above ``partial_limit`` of them publish a new run (as :func:`.refresh.refresh_project`;
    ``cache`` is unused: the detector reads pixels, not cached features)."""
    schema = client.label_schema(project, options.choices_name)
    state = _stored(workspace, project, schema.n_classes)
    if state is None or schema.kind != "boxes":
        return Refresh(None, reason="no box audit of this project yet: start training first")
    known, has_detector, source, left = state
    options = resolve_reviewers(client, options)
    options = replace(options, annotator_names=client.user_names())
    tasks = fetch_with_snapshot(client, project, workspace, progress)
    table = read_boxes(tasks, schema)
    evidence = None
    if has_detector:
        path = workspace.box_detector(project, options.model_version)
        new = [r for r, t in enumerate(table.task_ids.tolist()) if t not in known]
        if new and path.is_file():
            detector = BoxDetector.load(path)
            refs = [table.data[r].get(schema.data_key) for r in new]
            with MediaFetcher(
                session=client.session, allowed_hosts=options.allowed_hosts,
                local_files_root=options.local_files_root,
            ) as fetcher:  # fmt: skip
                failed: dict[int, tuple[str, str]] = {}
                detected = detect_images(detector, refs, fetcher, failed)
                for i, (r, found) in enumerate(zip(new, detected, strict=True)):
                    if found is not None:
                        known[int(table.task_ids[r])] = found
                    elif i in failed:
                        left[int(table.task_ids[r])] = failed[i]
        ids = table.task_ids.tolist()
        ok = np.array([int(t) in known for t in ids], dtype=bool)
        predictions = [known.get(int(t), empty_predictions(schema.n_classes)) for t in ids]
        # the tasks left out keep their reason (the last audit's, or the new image's failure)
        out = {r: left.get(int(t), ("no detector boxes", "")) for r, t in enumerate(ids)
               if not ok[r]}  # fmt: skip
        evidence = BoxEvidence(
            predictions,
            ok,
            {r: why for r, (why, _) in out.items()},
            source,
            media_kinds={r: kind for r, (_, kind) in out.items() if kind},
        )
    current = current_run(workspace, project, options.model_version)
    result = audit_box_table(
        table, schema, evidence, options=replace(options, run_id=current.run), project=project
    )
    pushed = workspace.read_json(workspace.pushed(project)) or {}
    changed = [p for p in result.predictions if pushed.get(str(p["task"])) != box_signature(p)]
    gone = set(pushed) - {str(p["task"]) for p in result.predictions}
    stale: tuple[str, ...] = ()
    if len(changed) + len(gone) > partial_limit:
        # a new run: the same audit, its predictions and markers tagged with the new run
        run = new_run_id()
        result = audit_box_table(
            table, schema, evidence, options=replace(options, run_id=run), project=project
        )
        stale = publish_run(
            client, project, result.predictions, queues=BOX_QUEUES, base=options.model_version,
            run=run, task_ids=[int(t) for t in result.task_ids],
            choices_name=options.choices_name, workspace=workspace, schema=schema,
        ).stale  # fmt: skip
    else:
        push_some(client, project, changed, current.version)
    save_box_state(workspace, result)
    return Refresh(result, pushed=len(changed), tasks=len(result.task_ids), stale_versions=stale)
