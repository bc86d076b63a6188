"""The end-to-end audit of a Label Studio project, shared by the CLI, the ML backend and the demo.

``run_project_audit``: fetch (incremental against the workspace's snapshot) -> the task kind's
audit (features, out-of-sample probabilities, ``audit_labels``, queues) -> predictions and review
tabs pushed (unless a dry run) -> the model saved. ``audit_tasks`` is the same without Label
Studio: task JSON in, a :class:`ProjectAudit` out (an export file, tests).

Every option is checked before any work: scalars when :class:`AuditOptions` is built, rules and
the task kind against the project's label config before the first task is fetched. Each stage
reports progress as ``progress(stage, done, total)``. One task's broken media never stops the run
(the task is skipped, with the reason, in ``skipped``). Nothing is written to Label Studio before
every stage up to the predictions has succeeded, and then only predictions of the audit's own
run (``<model_version>-<run id>``) and its tabs: never annotations, never task data.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from ls_cleanlab.audit import Rules, load_rules
from ls_cleanlab.features import FeatureCache
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.model import ModelStore, TrainedModel
from ls_cleanlab.model.detector import BoxDetector
from ls_cleanlab.pipeline.gold import resolve_reviewers
from ls_cleanlab.pipeline.kinds import TaskKind, task_kind
from ls_cleanlab.pipeline.options import AuditOptions, Progress, ProjectAudit
from ls_cleanlab.pipeline.runs import new_run_id, publish_run
from ls_cleanlab.pipeline.snapshot import fetch_with_snapshot
from ls_cleanlab.pipeline.workspace import Workspace
from ls_cleanlab.studio import LabelSchema, StudioClient

__all__ = ["audit_tasks", "check_plan", "run_project_audit"]


def check_plan(schema: LabelSchema, options: AuditOptions) -> tuple[TaskKind, Rules]:
    """The task kind that audits ``schema`` and the rules checked against its classes; raises
    before any work when either does not fit (an unsupported kind, a rule naming no class)."""
    kind = task_kind(schema)
    return kind, load_rules(
        options.rules,
        list(schema.classes),
        multi_label=schema.multi_label if schema.kind == "classification" else None,
    )


def audit_tasks(
    tasks: Sequence[Mapping[str, Any]],
    schema: LabelSchema,
    *,
    options: AuditOptions | None = None,
    fetcher: MediaFetcher | None = None,
    cache: FeatureCache | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    project: int | None = None,
) -> ProjectAudit:
    """Audit task JSON (an export, or a fetch) without writing anything.

    Parameters
    ----------
    tasks : sequence of dict
        Label Studio task JSON with annotations (and predictions for ``from_model_version``).
    schema : LabelSchema
    options : AuditOptions, optional
    fetcher : MediaFetcher, optional
        Needed for image tasks unless probabilities or embeddings are given.
    cache : FeatureCache, optional
    executor : concurrent.futures.Executor, optional
        Where media work, folds and predictions run (default: in this process).
    progress : callable(stage, done, total), optional
    project : int, optional
        Recorded in the result.
    """
    options = options or AuditOptions()
    kind, rules = check_plan(schema, options)
    return kind.audit(
        tasks, schema, options=options, rules=rules, fetcher=fetcher, cache=cache,
        executor=executor, progress=progress, project=project,
    )  # fmt: skip


def _save_trained(
    workspace: Workspace,
    project: int,
    version: str,
    trained: TrainedModel | BoxDetector,
    progress: Progress | None,
) -> None:
    """Keep the model fitted by an audit (a box detector beside the models, not in the store)."""
    if progress is not None:
        progress("save", 0, 1)
    if isinstance(trained, BoxDetector):
        trained.save(workspace.box_detector(project, version))
    else:
        ModelStore(workspace.models_dir).save(project, version, trained)
    if progress is not None:
        progress("save", 1, 1)


def run_project_audit(
    client: StudioClient,
    project: int,
    *,
    options: AuditOptions | None = None,
    data_dir: str | Path | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> ProjectAudit:
    """Audit a Label Studio project and (unless ``options.dry_run``) push the review queues.

    Parameters
    ----------
    data_dir : str or Path, optional
        The workspace (:class:`~ls_cleanlab.pipeline.workspace.Workspace`): where the task
        snapshot (incremental fetches), the feature cache and trained models live; without it
        every run fetches and describes everything again.
    executor : concurrent.futures.Executor, optional
        Where media work, folds and predictions run (default: in this process).
    progress : callable(stage, done, total), optional

    Returns
    -------
    ProjectAudit
        With ``push`` and ``views`` unless a dry run. A pushed audit is a new run (see
        :mod:`ls_cleanlab.pipeline.runs`); nothing is deleted here: earlier runs' versions are in
        ``stale_versions``, for :func:`~ls_cleanlab.pipeline.runs.remove_runs`.
    """
    options = options or AuditOptions()
    workspace = Workspace(data_dir) if data_dir is not None else None
    if workspace is not None and options.work_dir is None:
        options = dataclasses.replace(options, work_dir=workspace.scratch)
    if not options.dry_run and options.run_id is None:
        options = dataclasses.replace(options, run_id=new_run_id())
    start = time.perf_counter()
    schema = client.label_schema(project, options.choices_name)
    kind, _ = check_plan(schema, options)
    options = resolve_reviewers(client, options)
    names = client.user_names()
    options = dataclasses.replace(options, annotator_names=names)  # a finding names its annotator
    tasks = fetch_with_snapshot(client, project, workspace, progress)
    if options.from_model_version is not None:  # the export lists predictions by id only
        tasks = client.with_predictions(project, tasks, options.from_model_version)
    fetched = time.perf_counter() - start
    fetcher = MediaFetcher(
        session=client.session,
        allowed_hosts=options.allowed_hosts,
        local_files_root=options.local_files_root,
    )
    cache = workspace.feature_cache() if workspace is not None else None
    try:
        result = audit_tasks(
            tasks, schema, options=options, fetcher=fetcher, cache=cache, executor=executor,
            progress=progress, project=project,
        )  # fmt: skip
    finally:
        fetcher.close()
        if cache is not None:
            cache.close()
    del tasks
    seconds = {"fetch": fetched, **result.seconds}
    if workspace is not None and result.trained is not None:
        _save_trained(workspace, project, options.model_version, result.trained, progress)
    if options.dry_run or options.run_id is None:
        return dataclasses.replace(result, seconds=seconds, annotator_names=names)
    start = time.perf_counter()
    if progress is not None:
        progress("push", 0, len(result.predictions))
    published = publish_run(
        client, project, result.predictions, queues=kind.queues, base=options.model_version,
        run=options.run_id, task_ids=result.task_ids.tolist(), choices_name=options.choices_name,
        workspace=workspace, progress=progress, schema=schema,
    )  # fmt: skip
    if progress is not None:
        progress("push", len(result.predictions), len(result.predictions))
    seconds["push"] = time.perf_counter() - start
    return dataclasses.replace(
        result, push=published.push, views=published.views, seconds=seconds,
        stale_versions=published.stale, annotator_names=names,
    )  # fmt: skip
