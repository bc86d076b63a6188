"""The end-to-end audit of a Label Studio project, shared by the CLI and the ML backend's jobs.

``run_project_audit``: fetch (incremental against a snapshot when a data dir is given) ->
``read_tasks`` -> features -> out-of-sample probabilities -> ``audit_labels`` -> predictions and
review tabs pushed (unless a dry run) -> the model saved. ``audit_tasks`` is the same without
Label Studio: task JSON in, a :class:`ProjectAudit` out (an export file, tests).

Each stage reports progress as ``progress(stage, done, total)``. One task's broken media never
stops the run (the task is skipped, with the reason, in ``skipped``). Nothing is written to Label
Studio before every stage up to the predictions has succeeded, and then only predictions of the
audit's own ``model_version`` and its tabs: never annotations, never task data.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.audit import LabelAudit, audit_labels
from ls_cleanlab.errors import InvalidOptionError, InvalidTasksError
from ls_cleanlab.features import FeatureCache, prediction_probs, task_features
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.model import ModelStore, TrainedModel, out_of_sample_probs, train_model
from ls_cleanlab.pipeline.queues import QUEUES, queue_members, queue_predictions, queue_view
from ls_cleanlab.studio import LabelSchema, PushReport, StudioClient, TaskTable, read_tasks

__all__ = ["STAGES", "AuditOptions", "ProjectAudit", "audit_tasks", "run_project_audit"]

logger = logging.getLogger("ls_cleanlab")

#: Stages in order, as named in progress reports.
STAGES = ("fetch", "features", "model", "audit", "push")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class AuditOptions:
    """How to audit a project; every field has a sensible default.

    Attributes
    ----------
    model_version : str
        The version our predictions are stored under (replaced on each run).
    from_model_version : str, optional
        Use that model's predictions, already in the project, as probabilities (no model fit).
    pred_probs : path or ndarray, optional
        Probabilities ``(n, K)`` in task order (``.npy``): no model fit.
    embedding_field, embeddings_file : optional
        Precomputed features: a task data field, or an ``.npy``/``.npz`` (see ``features``).
    embedder : str
        Image embedder name (``"descriptors"``, ``"auto"``, ``"torchvision"``, ``"open_clip"``).
    rules : dict, path or None
        Implies/excludes rules for ``audit_labels``.
    choices_name : str, optional
        The Choices tag to audit when the config has several.
    n_folds, seed, threshold
        Cross-validation folds, the seed, and the audit's issue threshold.
    allowed_hosts : tuple of str
        Media hosts besides Label Studio's (names, ``*.domain``, IPs, CIDR networks).
    local_files_root : str, optional
        Label Studio's ``LOCAL_FILES_DOCUMENT_ROOT`` when readable here.
    dry_run : bool
        Compute everything, write nothing to Label Studio.
    """

    model_version: str = "ls-cleanlab"
    from_model_version: str | None = None
    pred_probs: str | Path | np.ndarray | None = None
    embedding_field: str | None = None
    embeddings_file: str | Path | None = None
    embedder: str = "descriptors"
    rules: Any = None
    choices_name: str | None = None
    n_folds: int = 5
    seed: int = 0
    threshold: float = 0.5
    allowed_hosts: tuple[str, ...] = ()
    local_files_root: str | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class ProjectAudit:
    """What an audit found and did. Arrays are over the ``m`` audited tasks.

    Attributes
    ----------
    project : int or None
    schema : LabelSchema
    table : TaskTable
        Every task read (including skipped ones).
    task_ids : np.ndarray of int64, shape (m,)
        Label Studio ids of the audited tasks (tasks with features or probabilities).
    labelled : np.ndarray of bool, shape (m,)
    pred_probs : np.ndarray, shape (m, K)
        Out-of-sample for labelled tasks, the final model's for the others.
    audit : LabelAudit
        Rows follow ``task_ids``; ``issues.task`` indexes them.
    queues : dict of str to np.ndarray
        Queue key -> task ids in review order (see :data:`ls_cleanlab.pipeline.queues.QUEUES`).
    predictions : list of dict
        One prediction per audited task (pushed unless a dry run).
    skipped : dict of int to str
        Task id -> why it was left out (no media, no prediction of the chosen version ...).
    source : str
        Where the probabilities came from (``"model:descriptors:lab-hog-v1"``, ``"predictions:v3"``
        ...).
    model_version : str
    push : PushReport or None
        None for a dry run or an offline audit.
    views : dict of str to int
        Queue title -> Data Manager view id.
    seconds : dict of str to float
        Time per stage.
    trained : TrainedModel or None
    """

    project: int | None
    schema: LabelSchema
    table: TaskTable
    task_ids: np.ndarray
    labelled: np.ndarray
    pred_probs: np.ndarray
    audit: LabelAudit
    queues: dict[str, np.ndarray]
    predictions: list[dict[str, Any]]
    skipped: dict[int, str]
    source: str
    model_version: str
    push: PushReport | None = None
    views: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    trained: TrainedModel | None = None


def _majority(table: TaskTable, k: int, multi_label: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per task: (labels (n, K) by majority of its annotators, ties present; labelled mask)."""
    ann = table.annotations
    n = len(table.task_ids)
    counts = np.bincount(ann.task, minlength=n)
    sums = np.zeros((n, k))
    np.add.at(sums, ann.task, ann.labels)
    labelled = counts > 0
    if multi_label:
        votes = (2 * sums >= np.maximum(counts, 1)[:, None]) & labelled[:, None]
        return votes.astype(np.int8), labelled
    single = np.zeros((n, k), dtype=np.int8)
    single[np.flatnonzero(labelled), np.argmax(sums[labelled], axis=1)] = 1
    return single, labelled


def _probabilities(
    tasks: Sequence[Mapping[str, Any]],
    table: TaskTable,
    schema: LabelSchema,
    options: AuditOptions,
    fetcher: MediaFetcher | None,
    cache: FeatureCache | None,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[int, str], str, TrainedModel | None]:
    """(probs (n, K), ok (n,), features or None, skipped rows -> reason, source, trained)."""
    n, k = len(table.task_ids), schema.n_classes
    if options.from_model_version is not None:
        found = prediction_probs(tasks, schema, options.from_model_version)
        return found.features, found.ok, None, found.skipped, found.source, None
    if options.pred_probs is not None:
        given = options.pred_probs
        probs = np.load(given) if isinstance(given, (str, Path)) else np.asarray(given)
        if probs.shape != (n, k) or not np.isfinite(probs).all():
            raise InvalidOptionError(
                f"pred_probs must be finite with shape ({n}, {k}) (tasks, classes); got "
                f"{probs.shape}."
            )
        return probs.astype(np.float64), np.ones(n, dtype=bool), None, {}, "pred_probs", None

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress("features", done, total)

    feats = task_features(
        table, schema, fetcher=fetcher, cache=cache, embedder=options.embedder,
        embedding_field=options.embedding_field, embeddings_file=options.embeddings_file,
        progress=report,
    )  # fmt: skip
    given, labelled = _majority(table, k, schema.multi_label)
    train = np.flatnonzero(labelled & feats.ok)
    if len(train) < max(2 * options.n_folds, 10):
        raise InvalidTasksError(
            f"only {len(train)} labelled tasks have features; the model needs at least "
            f"{max(2 * options.n_folds, 10)}. Label more tasks, or pass probabilities "
            "(from_model_version or pred_probs)."
        )
    X = feats.features
    target = given[train] if schema.multi_label else np.argmax(given[train], axis=1)

    def folds_done(done: int, total: int) -> None:
        if progress is not None:
            progress("model", done, total + 1)

    oos = out_of_sample_probs(
        X[train], target, n_folds=options.n_folds, seed=options.seed, progress=folds_done,
        n_classes=k, class_names=schema.classes,
    )  # fmt: skip
    trained = train_model(
        X[train], target, class_names=schema.classes, oos_probs=oos, seed=options.seed,
        encoder=feats.encoder,
    )  # fmt: skip
    probs = np.zeros((n, k))
    probs[train] = oos
    rest = np.flatnonzero(feats.ok & ~labelled)
    if len(rest):
        probs[rest] = trained.predict(X[rest]).probs
    if progress is not None:
        progress("model", options.n_folds + 1, options.n_folds + 1)
    skipped = dict(feats.skipped)
    return probs, feats.ok, X, skipped, f"model:{feats.source}", trained


def audit_tasks(
    tasks: Sequence[Mapping[str, Any]],
    schema: LabelSchema,
    *,
    options: AuditOptions | None = None,
    fetcher: MediaFetcher | None = None,
    cache: FeatureCache | None = None,
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
    progress : callable(stage, done, total), optional
    project : int, optional
        Recorded in the result.
    """
    options = options or AuditOptions()
    seconds: dict[str, float] = {}
    table = read_tasks(tasks, schema)
    if len(table.task_ids) == 0:
        raise InvalidTasksError("there are no tasks to audit.")
    start = time.perf_counter()
    probs, ok, X, skipped_rows, source, trained = _probabilities(
        tasks, table, schema, options, fetcher, cache, progress
    )
    seconds["features+model"] = time.perf_counter() - start
    rows = np.flatnonzero(ok)
    if len(rows) == 0:
        raise InvalidTasksError(
            f"no task could be audited: {len(skipped_rows)} skipped, e.g. "
            f"{next(iter(skipped_rows.values()), 'no reason')}."
        )
    start = time.perf_counter()
    if progress is not None:
        progress("audit", 0, 1)
    ann = table.annotations.subset(np.isin(table.annotations.task, rows))
    position = np.full(len(table.task_ids), -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    ann = _reindex(ann, position)
    labelled = np.bincount(ann.task, minlength=len(rows)) > 0
    audit = audit_labels(
        probs[rows], annotations=ann, class_names=list(schema.classes), rules=options.rules,
        multi_label=schema.multi_label, threshold=options.threshold, seed=options.seed,
    )  # fmt: skip
    task_ids = table.task_ids[rows]
    members = queue_members(audit, labelled)
    chosen = None
    if trained is not None and X is not None and (~labelled).any():
        chosen = np.zeros_like(audit.suggested)
        chosen[~labelled] = trained.predict(X[rows[~labelled]]).chosen
    predictions = queue_predictions(
        schema, task_ids, audit, labelled, model_version=options.model_version, chosen=chosen,
        members=members,
    )  # fmt: skip
    if progress is not None:
        progress("audit", 1, 1)
    seconds["audit"] = time.perf_counter() - start
    skipped = {int(table.task_ids[r]): why for r, why in skipped_rows.items()}
    return ProjectAudit(
        project=project, schema=schema, table=table, task_ids=task_ids, labelled=labelled,
        pred_probs=probs[rows], audit=audit,
        queues={key: task_ids[members[key]] for key in members}, predictions=predictions,
        skipped=skipped, source=source, model_version=options.model_version, seconds=seconds,
        trained=trained,
    )  # fmt: skip


def _reindex(ann: Annotations, position: np.ndarray) -> Annotations:
    """The annotations with task indices mapped through ``position``."""
    return Annotations(
        task=position[ann.task], annotator=ann.annotator, labels=ann.labels,
        lead_time=ann.lead_time, created_at=ann.created_at, ground_truth=ann.ground_truth,
    )  # fmt: skip


# -- with Label Studio ----------------------------------------------------------------------------


def _snapshot_path(data_dir: Path, project: int) -> Path:
    return data_dir / "projects" / str(int(project)) / "tasks.json.gz"


def fetch_with_snapshot(
    client: StudioClient,
    project: int,
    data_dir: Path | None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """All tasks of a project; with ``data_dir``, only what changed since the last snapshot is
    fetched (plus the list of ids, so deleted tasks drop out), and the snapshot is updated."""

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress("fetch", done, total)

    path = _snapshot_path(data_dir, project) if data_dir is not None else None
    snapshot = None
    if path is not None and path.is_file():
        try:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                snapshot = json.load(handle)
        except (OSError, ValueError) as error:
            logger.warning("ignoring unreadable task snapshot %s: %s", path, error)
    if snapshot is not None:
        changed = client.fetch_tasks(project, since=snapshot["fetched_at"], progress=report)
        alive = client.task_ids(project)
        merged = {int(t["id"]): t for t in snapshot["tasks"] if int(t["id"]) in alive}
        merged.update({int(t["id"]): t for t in changed.tasks})
        tasks = [merged[i] for i in sorted(merged)]
        fetched_at = changed.fetched_at
    else:
        full = client.fetch_tasks(project, progress=report)
        tasks, fetched_at = list(full.tasks), full.fetched_at
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with gzip.open(partial, "wt", encoding="utf-8") as handle:
            json.dump({"fetched_at": fetched_at, "tasks": tasks}, handle)
        os.replace(partial, path)
    return tasks


def run_project_audit(
    client: StudioClient,
    project: int,
    *,
    options: AuditOptions | None = None,
    data_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> ProjectAudit:
    """Audit a Label Studio project and (unless ``options.dry_run``) push the review queues.

    Parameters
    ----------
    client : StudioClient
    project : int
    options : AuditOptions, optional
    data_dir : str or Path, optional
        Where the task snapshot (incremental fetches), the feature cache and trained models
        live; without it every run fetches and describes everything again.
    progress : callable(stage, done, total), optional

    Returns
    -------
    ProjectAudit
        With ``push`` and ``views`` filled in unless a dry run.
    """
    options = options or AuditOptions()
    root = Path(data_dir) if data_dir is not None else None
    start = time.perf_counter()
    schema = client.label_schema(project, options.choices_name)
    tasks = fetch_with_snapshot(client, project, root, progress)
    fetched = time.perf_counter() - start
    fetcher = MediaFetcher(
        session=client.session,
        allowed_hosts=options.allowed_hosts,
        local_files_root=options.local_files_root,
    )
    cache = FeatureCache(root / "features.sqlite") if root is not None else None
    try:
        result = audit_tasks(
            tasks, schema, options=options, fetcher=fetcher, cache=cache, progress=progress,
            project=project,
        )  # fmt: skip
    finally:
        fetcher.close()
        if cache is not None:
            cache.close()
    seconds = {"fetch": fetched, **result.seconds}
    if root is not None and result.trained is not None:
        ModelStore(root / "models").save(project, options.model_version, result.trained)
    if options.dry_run:
        return _replace(result, seconds=seconds)
    start = time.perf_counter()
    if progress is not None:
        progress("push", 0, len(result.predictions))
    push = client.replace_predictions(
        project, result.predictions, model_version=options.model_version,
        task_ids=result.task_ids.tolist(),
    )  # fmt: skip
    views = {q.title: client.ensure_view(project, q.title, **queue_view(q)) for q in QUEUES}
    if progress is not None:
        progress("push", len(result.predictions), len(result.predictions))
    seconds["push"] = time.perf_counter() - start
    return _replace(result, push=push, views=views, seconds=seconds)


def _replace(result: ProjectAudit, **changes: Any) -> ProjectAudit:
    return dataclasses.replace(result, **changes)
