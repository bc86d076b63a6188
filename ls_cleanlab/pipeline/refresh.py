"""Incremental refreshes: re-audit a project from its stored probabilities, push what changed.

After a full audit, :func:`save_audit_state` keeps in the workspace each task's out-of-sample
probabilities and a signature of each prediction pushed. When annotations change,
:func:`refresh_project` re-fetches only what changed (against the task snapshot), scores new tasks
with the trained model (encoded exactly like its training set), re-runs the audit without
refitting, and pushes only the predictions whose labels, rounded score or queues changed, into the
project's current run (:mod:`ls_cleanlab.pipeline.runs`); above :data:`PARTIAL_PUSH_LIMIT` changes
it publishes a new run instead, whose tabs are current as soon as it is in, and leaves the old one
for the background cleanup.
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
from ls_cleanlab.model import ModelStore
from ls_cleanlab.pipeline.box_refresh import refresh_box_project, save_box_state
from ls_cleanlab.pipeline.gold import resolve_reviewers
from ls_cleanlab.pipeline.kinds import task_kind
from ls_cleanlab.pipeline.options import AuditOptions, Progress, ProjectAudit
from ls_cleanlab.pipeline.partial_push import PARTIAL_PUSH_LIMIT, Refresh, push_some
from ls_cleanlab.pipeline.preannotate import model_features
from ls_cleanlab.pipeline.prediction_list import QueuePredictions
from ls_cleanlab.pipeline.project import audit_tasks
from ls_cleanlab.pipeline.runs import current_run, new_run_id, publish_run, run_version
from ls_cleanlab.pipeline.snapshot import fetch_with_snapshot
from ls_cleanlab.pipeline.workspace import Workspace, write_atomic
from ls_cleanlab.studio import LabelSchema, StudioClient, read_tasks

__all__ = [
    "PARTIAL_PUSH_LIMIT",
    "Refresh",
    "changed_since_audit",
    "push_some",
    "refresh_project",
    "save_audit_state",
]

logger = logging.getLogger("ls_cleanlab")


def save_audit_state(workspace: Workspace, result: ProjectAudit) -> None:
    """Keep what a refresh needs: each task's probabilities and each pushed prediction's
    signature (both replaced atomically); box projects: :func:`.box_refresh.save_box_state`."""
    if result.schema.kind == "boxes":
        return save_box_state(workspace, result)
    project = int(result.project or 0)
    workspace.box_state(project).unlink(missing_ok=True)  # a box state is stale
    buffer = io.BytesIO()
    np.savez(buffer, task_ids=result.task_ids, probs=result.pred_probs,
             from_name=np.array(result.schema.from_name),
             classes=np.array(result.schema.classes, dtype=str))  # fmt: skip
    write_atomic(workspace.audit_state(project), buffer.getvalue())
    pushed = {str(p["task"]): _signature(p) for p in result.predictions}
    workspace.write_json(workspace.pushed(project), pushed)


def _stored_probs(workspace: Workspace, project: int) -> dict[int, np.ndarray] | None:
    path = workspace.audit_state(project)
    if not path.is_file():
        return None
    with np.load(path) as saved:
        return dict(zip(saved["task_ids"].tolist(), saved["probs"], strict=True))


def changed_since_audit(workspace: Workspace, project: int, schema: LabelSchema) -> str | None:
    """Why the project's last full audit cannot be refreshed under ``schema`` (the tag the
    options choose now, from the config as it is now), or None: it audited boxes and the tag
    now holds classes or the other way round, or another tag or other classes."""
    boxes = workspace.box_state(project).is_file()
    path = workspace.audit_state(project)
    if not boxes and not path.is_file():
        return None
    now = f"the {'boxes' if schema.kind == 'boxes' else 'classes'} of {schema.from_name!r}"
    again = "start training to audit it"
    if boxes != (schema.kind == "boxes"):
        return f"the last full audit was of {'boxes' if boxes else 'classes'}, now {now}: {again}"
    if boxes:
        return None
    with np.load(path) as saved:
        if "classes" in saved.files:
            tag, width = str(saved["from_name"]), len(saved["classes"])
            same = tag == schema.from_name and tuple(saved["classes"].tolist()) == schema.classes
        else:  # a state from before tags were kept: its probabilities' width is all it says
            tag, width = schema.from_name, saved["probs"].shape[1]
            same = width == len(schema.classes)
    if not same:
        return f"the last full audit was of {width} classes of {tag!r}, now {now}: {again}"
    return None


def refresh_project(
    client: StudioClient,
    project: int,
    *,
    workspace: Workspace,
    options: AuditOptions,
    cache: FeatureCache | None = None,
    progress: Progress | None = None,
    partial_limit: int = PARTIAL_PUSH_LIMIT,
) -> Refresh:
    """Re-audit ``project`` from its stored probabilities and push the predictions that changed:
    one by one in the current run, or above ``partial_limit`` of them as a new run (the earlier
    runs' versions returned for the cleanup). New tasks are scored by the project's trained
    model (``options.model_version``); those it cannot score (no model yet, no media) wait for
    the next full audit. Box projects: :func:`.box_refresh.refresh_box_project`."""
    schema = client.label_schema(project, options.choices_name)
    outdated = changed_since_audit(workspace, project, schema)
    if outdated is not None:
        return Refresh(None, reason=outdated)
    if workspace.box_state(project).is_file():
        return refresh_box_project(
            client, project, workspace=workspace, options=options, cache=cache,
            progress=progress, partial_limit=partial_limit,
        )  # fmt: skip
    known = _stored_probs(workspace, project)
    if known is None:
        return Refresh(None, reason="no audit of this project yet: start training first")
    current = current_run(workspace, project, options.model_version)
    options = resolve_reviewers(client, options)
    names = client.user_names()  # before the push: after it, only the state is saved
    tasks = fetch_with_snapshot(client, project, workspace, progress)
    known.update(_score_new(client, project, tasks, known, schema, workspace, options, cache))
    kept = [t for t in tasks if int(t["id"]) in known]
    _report(progress, "audit", 0, 1)
    order = read_tasks(kept, schema).task_ids
    probs = np.stack([known[int(t)] for t in order])
    result = audit_tasks(
        kept, schema, options=replace(options, pred_probs=probs, run_id=current.run),
        project=project,
    )  # fmt: skip
    _report(progress, "audit", 1, 1)
    pushed = workspace.read_json(workspace.pushed(project)) or {}
    changed = [p for p in result.predictions if pushed.get(str(p["task"])) != _signature(p)]
    gone = set(pushed) - {str(p["task"]) for p in result.predictions}
    _report(progress, "push", 0, len(changed))
    stale: tuple[str, ...] = ()
    if len(changed) + len(gone) > partial_limit:
        run = new_run_id()
        version = run_version(options.model_version, run)
        made = result.predictions
        assert isinstance(made, QueuePredictions)  # what classification audits return
        predictions = made.for_run(run, version)  # the same queues, a new run
        result = replace(result, predictions=predictions, model_version=version, run=run)
        published = publish_run(
            client, project, result.predictions, queues=task_kind(schema).queues,
            base=options.model_version, run=run, task_ids=[int(t) for t in result.task_ids],
            choices_name=options.choices_name, workspace=workspace, schema=schema,
        )  # fmt: skip
        stale = published.stale
    else:
        push_some(client, project, changed, current.version)
    _report(progress, "push", len(changed), len(changed))
    result = replace(result, annotator_names=names)
    _report(progress, "save", 0, 1)
    save_audit_state(workspace, result)
    _report(progress, "save", 1, 1)
    return Refresh(result, pushed=len(changed), tasks=len(kept), waiting=len(tasks) - len(kept),
                   stale_versions=stale)  # fmt: skip


def _score_new(
    client: StudioClient,
    project: int,
    tasks: list[dict[str, Any]],
    known: Mapping[int, np.ndarray],
    schema: LabelSchema,
    workspace: Workspace,
    options: AuditOptions,
    cache: FeatureCache | None,
) -> dict[int, np.ndarray]:
    """The trained model's probabilities of the tasks the last audit did not score, for those
    whose media it can read (none before a model exists)."""
    new = [t for t in tasks if int(t["id"]) not in known]
    store = ModelStore(workspace.models_dir)
    if not new or not store.path(project, options.model_version).is_file():
        return {}
    trained = store.load(project, options.model_version)
    with MediaFetcher(
        session=client.session,
        allowed_hosts=options.allowed_hosts,
        local_files_root=options.local_files_root,
    ) as fetcher:
        found = model_features(trained, new, schema, fetcher=fetcher, cache=cache)
    rows = np.flatnonzero(found.ok)
    if not len(rows):
        return {}
    probs = trained.predict(found.features[rows]).probs
    return {int(new[r]["id"]): p for r, p in zip(rows, probs, strict=True)}


def _report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


def _signature(prediction: Mapping[str, Any]) -> list[Any]:
    result = prediction["result"][0]
    return [sorted(result["value"]["choices"]), round(float(prediction["score"]), 4),
            result.get("meta", {}).get("queues", [])]  # fmt: skip
