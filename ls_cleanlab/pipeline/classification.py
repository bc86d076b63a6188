"""The classification task kind (a ``Choices`` tag, single- or multi-label), end to end offline.

Task JSON -> :func:`~ls_cleanlab.studio.read_tasks` -> probabilities (another model's predictions,
given probabilities, or out-of-sample probabilities of a model trained here on the annotators'
majority vote) -> :func:`~ls_cleanlab.audit.audit_labels` -> the final model, refitted on the
audited labels without the ones confident learning doubts (:func:`final_model`) -> review queues
and the predictions that carry them (pre-annotations of unlabelled tasks from that final model,
which ``/predict`` uses too; the audit's probabilities for unlabelled tasks come from the plain
final model, fitted before the audit).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ls_cleanlab.annotations import Annotations
from ls_cleanlab.annotators.gold import find_gold, gold_accuracy
from ls_cleanlab.audit import LabelAudit, Rules
from ls_cleanlab.errors import (
    InvalidOptionError,
    InvalidTasksError,
    LabelConfigError,
    NoTasksError,
    NotEnoughLabelsError,
)
from ls_cleanlab.features import FeatureCache, prediction_probs, task_features
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.model import TrainedModel, train_noise_robust
from ls_cleanlab.ondisk import DiskArray, scratch_dir
from ls_cleanlab.pipeline.gold import reviewer_ids, with_gold
from ls_cleanlab.pipeline.options import AuditOptions, Progress, ProjectAudit
from ls_cleanlab.pipeline.queues import QUEUES, Queue, queue_members, queue_predictions
from ls_cleanlab.pipeline.runs import run_version
from ls_cleanlab.pipeline.skips import annotation_skips, task_skip_reason
from ls_cleanlab.pipeline.stages import fit_models, next_rows, predict_rows, run_audit
from ls_cleanlab.studio import LabelSchema, TaskTable, read_tasks
from ls_cleanlab.validation import ROW_SUM_TOLERANCE

__all__ = ["Classification", "Probabilities", "majority_vote", "probabilities"]


@dataclass(frozen=True, eq=False)
class Probabilities:
    """Where an audit's probabilities came from, aligned with the task table's rows.

    Attributes
    ----------
    probs : np.ndarray, shape (n, K)
        Out-of-sample for labelled tasks, the final model's for the others; rows not in ``ok``
        are zeros.
    ok : np.ndarray of bool, shape (n,)
        Rows with probabilities.
    skipped : dict of int to str
        Row -> why it has none.
    source : str
        ``"model:<extractor>"``, ``"predictions:<version>"`` or ``"pred_probs"``.
    chosen : np.ndarray of int8, shape (n, K), or None
        The trained model's suggested labels for the rows nobody labelled (zeros elsewhere);
        None when no model was fitted.
    trained : TrainedModel or None
    features : ndarray, sparse matrix, DiskArray or None
        The features the model was trained on (None when no model was fitted).
    """

    probs: np.ndarray
    ok: np.ndarray
    skipped: dict[int, str] = field(default_factory=dict)
    source: str = ""
    chosen: np.ndarray | None = None
    trained: TrainedModel | None = None
    features: Any = None


def majority_vote(table: TaskTable, k: int, multi_label: bool) -> tuple[np.ndarray, np.ndarray]:
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


def probabilities(
    tasks: Sequence[Mapping[str, Any]],
    table: TaskTable,
    schema: LabelSchema,
    options: AuditOptions,
    fetcher: MediaFetcher | None,
    cache: FeatureCache | None,
    progress: Progress | None,
    executor: Executor | None = None,
    work_dir: Path | None = None,
) -> Probabilities:
    """The audit's probabilities: another model's predictions, given ones, or a model fitted here
    (out-of-sample for labelled tasks, the final model's for the rest). With ``work_dir`` the
    features are kept on disk there and read in chunks, where each stage runs."""
    n, k = len(table.task_ids), schema.n_classes
    if options.from_model_version is not None:
        found = prediction_probs(tasks, schema, options.from_model_version)
        return Probabilities(found.features, found.ok, found.skipped, found.source)
    if options.pred_probs is not None:
        given = options.pred_probs
        probs = np.load(given) if isinstance(given, (str, Path)) else np.asarray(given)
        if probs.shape != (n, k):
            raise InvalidOptionError(
                f"pred_probs must have shape ({n}, {k}) (tasks, classes); got {probs.shape}."
            )
        if not np.isfinite(probs).all():
            row = int(np.flatnonzero(~np.isfinite(probs).all(axis=1))[0])
            raise InvalidOptionError(
                f"pred_probs holds values that are not finite numbers (NaN or infinite), the "
                f"first in row {row} (task {int(table.task_ids[row])})."
            )
        sums = probs.sum(axis=1) if not schema.multi_label else np.ones(n)
        if not np.allclose(sums, 1.0, atol=ROW_SUM_TOLERANCE):
            row = int(np.flatnonzero(~np.isclose(sums, 1.0, atol=ROW_SUM_TOLERANCE))[0])
            raise InvalidOptionError(
                f"pred_probs rows must sum to 1 for the single-label tag {schema.from_name!r} "
                f"(softmax probabilities); row {row} (task {int(table.task_ids[row])}) sums to "
                f"{sums[row]:.6g}. Per-class probabilities fit a multi-label tag only."
            )
        return Probabilities(probs.astype(np.float64), np.ones(n, dtype=bool), {}, "pred_probs")

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress("features", done, total)

    given, labelled = majority_vote(table, k, schema.multi_label)
    gold = find_gold(table.annotations, n, reviewer_ids(options))
    given = np.where(gold.tasks[:, None], gold.labels, given)  # a gold label is the target
    labelled = labelled | gold.tasks
    _check_enough(table, labelled, np.ones(n, dtype=bool), {}, options.n_folds)  # no features yet
    feats = task_features(
        table, schema, fetcher=fetcher, cache=cache, embedder=options.embedder,
        text_embedder=options.text_embedder, embedding_field=options.embedding_field,
        embeddings_file=options.embeddings_file, executor=executor, progress=report,
        store_dir=work_dir,
    )  # fmt: skip
    train = np.flatnonzero(labelled & feats.ok)
    _check_enough(table, labelled, feats.ok, feats.skipped, options.n_folds)
    X = feats.features
    target = given[train] if schema.multi_label else np.argmax(given[train], axis=1)
    oos, trained = fit_models(
        X.select(train) if isinstance(X, DiskArray) else X[train], target,
        class_names=schema.classes, options=options, executor=executor, progress=progress,
        encoder=feats.encoder, extractor=feats.extractor,
    )  # fmt: skip
    probs = np.zeros((n, k))
    probs[train] = oos
    chosen = np.zeros((n, k), dtype=np.int8)
    rest = np.flatnonzero(feats.ok & ~labelled)
    if len(rest):
        predicted = predict_rows(trained, X, rest, executor)
        probs[rest] = predicted.probs
        chosen[rest] = predicted.chosen
    if progress is not None:
        progress("model", options.n_folds + 1, options.n_folds + 1)
    source = f"model:{feats.source}"
    return Probabilities(probs, feats.ok, dict(feats.skipped), source, chosen, trained, X)


class Classification:
    """The classification task kind: a ``Choices`` tag over ``Image``, ``Text`` or ``HyperText``."""

    name = "classification"
    queues: tuple[Queue, ...] = QUEUES

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
    ) -> ProjectAudit:
        """Audit task JSON, writing nothing (see :func:`ls_cleanlab.pipeline.audit_tasks`)."""
        if not schema.multi_label and schema.n_classes < 2:
            raise LabelConfigError(
                f"the single-label Choices tag {schema.from_name!r} has one choice "
                f"({schema.classes[0]!r}): there is nothing to choose between. Add the other "
                'choices, or make it choice="multiple" to audit whether the label is present.'
            )
        table = read_tasks(tasks, schema)
        if len(table.task_ids) == 0:
            raise NoTasksError(project)
        with scratch_dir(options.work_dir) as work:
            return self._audit(tasks, table, schema, options, rules, fetcher, cache, executor,
                               progress, project, work)  # fmt: skip

    def _audit(
        self,
        tasks: Sequence[Mapping[str, Any]],
        table: TaskTable,
        schema: LabelSchema,
        options: AuditOptions,
        rules: Rules,
        fetcher: MediaFetcher | None,
        cache: FeatureCache | None,
        executor: Executor | None,
        progress: Progress | None,
        project: int | None,
        work: Path,
    ) -> ProjectAudit:
        seconds: dict[str, float] = {}
        start = time.perf_counter()
        found = probabilities(tasks, table, schema, options, fetcher, cache, progress, executor,
                              work)  # fmt: skip
        seconds["features+model"] = time.perf_counter() - start
        rows = np.flatnonzero(found.ok)
        if len(rows) == 0:
            raise InvalidTasksError(
                f"no task could be audited: {len(found.skipped)} skipped, e.g. "
                f"{next(iter(found.skipped.values()), 'no reason')}."
            )
        start = time.perf_counter()
        if progress is not None:
            progress("audit", 0, 1)
        ann = _reindex(table.annotations, rows, len(table.task_ids))
        gold = find_gold(ann, len(rows), reviewer_ids(options))
        # gold is the truth, not one more vote (unless nothing else is left to audit)
        crowd = ann.subset(~gold.annotation) if not gold.annotation.all() else ann
        labelled = (np.bincount(crowd.task, minlength=len(rows)) > 0) | gold.tasks
        # one array of the audited rows' probabilities, shared (a copy only when rows were
        # skipped): at a million tasks and 50 classes each copy is 400 MB
        probs = found.probs if len(rows) == len(found.probs) else found.probs[rows]
        audit = run_audit(
            probs, crowd, class_names=list(schema.classes), rules=rules,
            multi_label=schema.multi_label, options=options, executor=executor, work_dir=work,
            gold=gold if crowd is not ann else None,
        )  # fmt: skip
        audit = with_gold(audit, gold)
        seconds["audit"] = time.perf_counter() - start
        start = time.perf_counter()
        trained = found.trained
        if options.noise_robust and trained is not None and found.features is not None:
            trained = final_model(found, rows, labelled, audit, schema, options, executor)
        seconds["final model"] = time.perf_counter() - start
        start = time.perf_counter()
        task_ids = table.task_ids[rows]
        wanted = next_rows(probs, crowd, labelled, multi_label=schema.multi_label,
                           executor=executor, work_dir=work)  # fmt: skip
        members = queue_members(audit, labelled, annotations=crowd, pred_probs=probs,
                                next_rows=wanted)  # fmt: skip
        members = {key: m[~gold.tasks[m]] for key, m in members.items()}  # reviewed: in no tab
        chosen = None
        if trained is not None and found.features is not None and (~labelled).any():
            chosen = np.zeros_like(audit.suggested)
            chosen[~labelled] = predict_rows(trained, found.features, rows[~labelled],
                                             executor).chosen  # fmt: skip
        version = run_version(options.model_version, options.run_id)
        predictions = queue_predictions(
            schema, task_ids, audit, labelled, model_version=version, chosen=chosen,
            members=members, run=options.run_id,
        )  # fmt: skip
        if progress is not None:
            progress("audit", 1, 1)
        seconds["queues"] = time.perf_counter() - start
        skipped = {int(table.task_ids[r]): why for r, why in found.skipped.items()}
        reasons = _skip_reasons(table, schema, found.skipped, fetcher)
        return ProjectAudit(
            project=project, schema=schema, table=table, task_ids=task_ids, labelled=labelled,
            pred_probs=probs, audit=audit,
            queues={key: task_ids[members[key]] for key in members}, predictions=predictions,
            skipped=skipped, source=found.source, model_version=version, run=options.run_id,
            seconds=seconds, trained=trained, skip_reasons=reasons, gold=gold.tasks,
            gold_accuracy=gold_accuracy(ann, gold) if gold.any else None,
        )  # fmt: skip


def final_model(
    found: Probabilities,
    rows: np.ndarray,
    labelled: np.ndarray,
    audit: LabelAudit,
    schema: LabelSchema,
    options: AuditOptions,
    executor: Executor | None,
) -> TrainedModel:
    """The model for pre-annotations and ``/predict``: fitted on the audited labels (the audit's
    consensus) of the labelled tasks without the cells confident learning doubts, iterated while
    the estimated noise falls (:func:`~ls_cleanlab.model.train_noise_robust`)."""
    assert found.trained is not None and found.features is not None  # checked by the caller
    train = rows[labelled]
    audited = np.asarray(audit.consensus)[labelled]
    target = audited if schema.multi_label else np.argmax(audited, axis=1)
    X = found.features  # on disk its rows stay there: each fit reads them where it runs
    fit = train_noise_robust(
        X.select(train) if isinstance(X, DiskArray) else X[train], target,
        class_names=schema.classes, oos_probs=found.probs[train],
        n_folds=options.n_folds, seed=options.seed, encoder=found.trained.encoder,
        extractor=found.trained.extractor, executor=executor,
    )  # fmt: skip
    return fit.model


#: Reasons an annotation is left out that may leave its task unlabelled (an older annotation
#: superseded by a newer one of the same annotator leaves the task labelled).
_LABELS_LEFT_OUT = ("unknown_choice", "no_choice", "cancelled_annotation", "deleted_annotator")


def _check_enough(
    table: TaskTable, labelled: np.ndarray, ok: np.ndarray, skipped: Mapping[int, str], folds: int
) -> None:
    """Refuse to fit the model on fewer labelled tasks with features than it needs (10, and 2
    per fold), saying whether labels or features are short (and why the first labelled task
    has none)."""
    need = max(2 * folds, 10)
    n_labelled, n_train = int(labelled.sum()), int((labelled & ok).sum())
    if n_train >= need:
        return
    need_text = f"{need} (2 for each of n_folds={folds})" if need > 10 else str(need)
    if n_labelled < need:
        skips = [s for s in annotation_skips(table.report) if s.items == "annotations"]
        left = [f"{s.count} {s.items} ({s.meaning}{', ' if s.example else ''}{s.example})"
                for s in skips]  # fmt: skip
        causes = tuple(s.reason for s in skips if s.reason in _LABELS_LEFT_OUT)
        # each annotation left out could label a task at most: short even then, label more
        if n_labelled + sum(s.count for s in skips if s.reason in causes) < need:
            causes = ("labels", *(("folds",) if need > 10 else ()), *causes)
        ask = "Make the annotations left out usable"
        if "labels" in causes:
            ask = "Label more tasks, use fewer folds" if need > 10 else "Label more tasks"
        shown = f" Left out: {'; '.join(left)}." if left else ""
        raise NotEnoughLabelsError(
            f"only {n_labelled} of the {len(labelled)} tasks are labelled (with an annotation "
            f"that is used); the model needs at least {need_text}. {ask}, or pass probabilities "
            f"(from_model_version or pred_probs).{shown}",
            causes=causes,
        )
    row = int(np.flatnonzero(labelled & ~ok)[0])
    why = skipped.get(row, "no features")
    raise NotEnoughLabelsError(
        f"only {n_train} of the {n_labelled} labelled tasks have features (task "
        f"{int(table.task_ids[row])}: {why}); the model needs at least {need_text}. Make the "
        f"features available, or pass probabilities (from_model_version or pred_probs).",
        causes=("features",),
    )


def _skip_reasons(
    table: TaskTable, schema: LabelSchema, skipped: Mapping[int, str], fetcher: MediaFetcher | None
) -> dict[int, str]:
    """Task id -> reason code of each skipped row; a failed download's kind comes from the
    fetcher, which remembers it."""
    reasons = {}
    for row, message in skipped.items():
        ref = table.data[row].get(schema.data_key)
        kind = fetcher.failure_kind(ref) if fetcher is not None and isinstance(ref, str) else None
        if isinstance(ref, str) and ref:  # media failures read "<ref, shortened>: <why>"
            short = ref if len(ref) <= 80 else ref[:60] + "..." + ref[-12:]
            message = message.removeprefix(f"{short}: ")
        reasons[int(table.task_ids[row])] = task_skip_reason(message, kind)
    return reasons


def _reindex(ann: Annotations, rows: np.ndarray, n: int) -> Annotations:
    """The annotations of the tasks at ``rows``, task indices renumbered ``0..len(rows)`` (the
    table itself when every task is kept: a second copy is 250 MB at a million tasks)."""
    if len(rows) == n:  # rows are sorted and distinct: all of them, in order
        return ann
    kept = ann.subset(np.isin(ann.task, rows))
    position = np.full(n, -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    return Annotations(
        task=position[kept.task], annotator=kept.annotator, labels=kept.labels,
        lead_time=kept.lead_time, created_at=kept.created_at, ground_truth=kept.ground_truth,
    )  # fmt: skip
