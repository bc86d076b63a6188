"""Background jobs of the ML backend: full audits, debounced refreshes, webhook registration.

One worker thread runs the jobs in order, so two audits of one project never overlap; a job
already queued for a project absorbs a second request of the same kind. Annotation webhooks only
mark a project changed and (re)start its debounce timer; when the timer fires a ``refresh`` job
re-fetches what changed (incrementally, against the task snapshot), re-scores every task from the
stored out-of-sample probabilities (new tasks get the trained model's), re-runs the audit without
refitting, and pushes only the predictions that changed. State per project lives in
the workspace (:mod:`ls_cleanlab.pipeline.workspace`); job rows in the store.

A job's ``stage`` names the step under way (``fetch`` from the start, then ``features``,
``model``, ``audit``, ``save``, ``push``); a failed job keeps the stage it failed in. A restart
resumes the jobs it interrupted: an audit reuses the task snapshot, the feature cache and the
folds finished before the restart (:class:`~ls_cleanlab.pipeline.FoldCheckpoints`), and its push
replaces the model version whole, so nothing is half done.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import numpy as np

from ls_cleanlab.errors import LsCleanlabError
from ls_cleanlab.pipeline import (
    AuditOptions,
    FoldCheckpoints,
    ProjectAudit,
    queue_expected,
    queue_precision,
    run_project_audit,
    skip_report,
    task_kind,
)
from ls_cleanlab.pipeline.gold import gold_scores
from ls_cleanlab.pipeline.refresh import refresh_project, save_audit_state
from ls_cleanlab.pipeline.runs import current_run, remove_runs, stale_versions
from ls_cleanlab.pipeline.workspace import Workspace
from ls_cleanlab.report import write_report
from ls_cleanlab.server.auth import SECRET_HEADER, WEBHOOK_ACTIONS
from ls_cleanlab.server.jobstore import Job, Store
from ls_cleanlab.server.predictor import Predictor
from ls_cleanlab.server.settings import Settings
from ls_cleanlab.studio import StudioClient

__all__ = ["JobRunner"]

logger = logging.getLogger("ls_cleanlab")

ClientFactory = Callable[[int], StudioClient]


class JobRunner:
    """Queue and run the backend's jobs (see the module docs)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        predictor: Predictor,
        client: ClientFactory,
        executor: Executor | None = None,
    ) -> None:
        self.settings = settings
        self.executor = executor  # where an audit's features, folds and audit run (a cluster)
        self.workspace = Workspace(settings.data_dir)
        self.store = store
        self.predictor = predictor
        self.client = client
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._timers: dict[int, threading.Timer] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Re-queue the jobs a restart interrupted (they resume), then the queued ones, and
        start the worker."""
        resumed, given_up = self.store.recover()
        for job_id in resumed:
            logger.warning("job %d was interrupted by a restart: it resumes", job_id)
        for job_id in given_up:
            logger.warning("job %d was interrupted by restarts too often: marked failed", job_id)
        for job in self.store.jobs(state="queued"):
            self._queue.put(job.id)
        self._thread = threading.Thread(target=self._work, name="ls-cleanlab-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    def pending(self) -> int:
        """Jobs waiting in the queue plus projects waiting for their debounce."""
        with self._lock:
            return self._queue.qsize() + len(self._timers)

    # -- submitting -----------------------------------------------------------------------------

    def submit(self, project: int, kind: str) -> Job:
        """Queue a job, unless one of that kind is already queued for the project (returned)."""
        with self._lock:
            for job in self.store.jobs(project=project, state="queued"):
                if job.kind == kind:
                    return job
            if kind == "audit":
                for job in self.store.jobs(project=project, state="running"):
                    if job.kind == "audit":
                        return job
            job = self.store.add_job(project, kind)
            self._queue.put(job.id)
            return job

    def changed(self, project: int) -> None:
        """An annotation or task event: refresh the project after the debounce delay."""
        with self._lock:
            timer = self._timers.pop(project, None)
            if timer is not None:
                timer.cancel()
            timer = threading.Timer(self.settings.debounce_seconds, self._due, (project,))
            timer.daemon = True
            self._timers[project] = timer
            timer.start()

    def _due(self, project: int) -> None:
        with self._lock:
            self._timers.pop(project, None)
        self.submit(project, "refresh")

    # -- running --------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            job = self.store.job(job_id)
            if job is None or job.state != "queued":
                continue
            self.run(job)

    def run(self, job: Job) -> None:
        """Run one job to ``done`` or ``failed`` (never raises)."""
        self.store.start(job.id)
        self.store.progress(job.id, "register" if job.kind == "register" else "fetch", 0, 0)
        started = time.perf_counter()
        try:
            summary = {"audit": self._audit, "refresh": self._refresh, "register": self._register,
                       "cleanup": self._cleanup}[job.kind](job)  # fmt: skip
        except (LsCleanlabError, OSError, ValueError, KeyError) as error:
            logger.warning("job %d (%s of project %d) failed: %s", job.id, job.kind,
                           job.project, error)  # fmt: skip
            self.store.finish(job.id, reason=f"{type(error).__name__}: {error}")
            return
        except Exception as error:  # a job must never kill the worker
            logger.exception("job %d (%s of project %d) crashed", job.id, job.kind, job.project)
            self.store.finish(job.id, reason=f"internal error: {type(error).__name__}")
            return
        summary["seconds"] = round(time.perf_counter() - started, 3)
        self.store.finish(job.id, summary=summary)
        logger.info("job %d (%s of project %d) done: %s", job.id, job.kind, job.project, summary)

    def _options(self, project: int) -> AuditOptions:
        """The settings' options, auditing the control tag the project's /setup chose."""
        s = self.settings
        return AuditOptions(
            model_version=s.model_version, n_folds=s.n_folds, threshold=s.threshold,
            allowed_hosts=s.hosts, local_files_root=s.local_files_root,
            reviewers=s.reviewer_list, choices_name=self.store.tag(project),
        )  # fmt: skip

    def _progress(self, job: Job) -> Callable[[str, int, int], None]:
        """Progress into the job's row: at most twice a second within a stage, and always
        when a stage starts or ends (so a failed job names the stage it failed in)."""
        last = [0.0]
        current = [""]

        def report(stage: str, done: int, total: int) -> None:
            now = time.monotonic()
            if stage != current[0] or now - last[0] > 0.5 or done == total:
                last[0], current[0] = now, stage
                self.store.progress(job.id, stage, done, total)

        return report

    def _register(self, job: Job) -> dict[str, Any]:
        """Sign the project's webhooks to this backend: our secret header, our actions."""
        with self.client(job.project) as client:
            urls = set()
            if self.settings.backend_url:
                urls.add(self.settings.backend_url + "/webhook")
            for backend in client.session.json("GET", "/api/ml/", params={"project": job.project}):
                urls.add(str(backend.get("url", "")).rstrip("/") + "/webhook")
            ids = [
                client.ensure_webhook(job.project, url, WEBHOOK_ACTIONS,
                                      headers={SECRET_HEADER: self.settings.secret()})
                for url in sorted(urls) if url != "/webhook"
            ]  # fmt: skip
        return {"webhooks": ids}

    def _audit(self, job: Job) -> dict[str, Any]:
        progress = self._progress(job)
        folds = FoldCheckpoints(self.workspace.folds(job.project), inner=self.executor)
        try:
            with self.client(job.project) as client:
                result = run_project_audit(
                    client, job.project, options=self._options(job.project),
                    data_dir=self.workspace.root, progress=progress, executor=folds,
                )  # fmt: skip
                studio_url = client.session.url
        finally:
            folds.shutdown()
        progress("save", 0, 1)
        save_audit_state(self.workspace, result)
        self.store.audited(job.project, result.model_version, _flagged(result), True)
        progress("save", 1, 1)
        folds.clear()  # the audit is whole: its folds are not needed again
        if result.stale_versions:  # the tabs show the new run already: delete the old ones later
            self.submit(job.project, "cleanup")
        return {**_summary(result), "resumed": job.resumed, "folds_reused": folds.reused,
                "report": self._report(job.project, result, studio_url)}  # fmt: skip

    def _report(self, project: int, result: ProjectAudit, studio_url: str) -> str:
        """Write the project's report into the data dir; its link (a path when the backend
        does not know its own address, ``LS_CLEANLAB_BACKEND_URL``)."""
        write_report(result, self.workspace.report(project), studio_url=studio_url)
        return f"{(self.settings.backend_url or '').rstrip('/')}/report/{project}"

    def _refresh(self, job: Job) -> dict[str, Any]:
        with self.client(job.project) as client:
            done = refresh_project(
                client, job.project, workspace=self.workspace, options=self._options(job.project),
                cache=self.predictor.cache, progress=self._progress(job),
            )  # fmt: skip
        if done.audit is None:
            return {"skipped": done.reason}
        self.store.audited(job.project, done.audit.model_version, _flagged(done.audit), False)
        if done.stale_versions:
            self.submit(job.project, "cleanup")
        return {**_summary(done.audit), "pushed": done.pushed, "tasks": done.tasks,
                "waiting_for_full_audit": done.waiting}  # fmt: skip

    def _cleanup(self, job: Job) -> dict[str, Any]:
        """Delete the predictions of the project's earlier runs (slow in Label Studio: one
        prediction at a time), after the tabs moved to the current run."""
        current = current_run(self.workspace, job.project, self.settings.model_version)
        with self.client(job.project) as client:
            stale = stale_versions(client, job.project, current.base, keep=current.version)
            deleted = remove_runs(client, job.project, stale)
        return {"versions": list(stale), "deleted": deleted}


def _queues(result: ProjectAudit) -> dict[str, int]:
    """Each of the project's tabs (its task kind's: classification or boxes) with its size."""
    return {q.key: len(result.queues.get(q.key, ())) for q in task_kind(result.schema).queues}


def _flagged(result: ProjectAudit) -> dict[str, Any]:
    flagged: dict[str, Any] = _queues(result)
    table = result.audit.annotators
    quality: dict[str, float] = {}
    if table is not None and "quality" in table.columns:
        quality = {
            result.annotator_name(a): round(float(q), 4)
            for a, q in zip(table["annotator"], table["quality"], strict=True)
            if np.isfinite(q)
        }
    boxes = result.schema.kind == "boxes"
    return {"queues": flagged, "annotators": quality, "tasks": len(result.task_ids),
            "expected": {} if boxes else queue_expected(result.audit),
            "gold_tasks": int(np.sum(result.gold)) if result.gold is not None else 0,
            "gold": gold_scores(result)}  # fmt: skip


def _summary(result: ProjectAudit) -> dict[str, Any]:
    """A job's summary: tasks audited, what was left out by reason, queue sizes, the tasks
    expected to have each error tab's problem in all (:func:`queue_expected`) and the share of
    each tab's tasks expected to have it (:func:`queue_precision`), source, the control tag
    audited and the config's tags left alone."""
    left_out = skip_report(result)
    return {"tasks": len(result.task_ids), "skipped": len(result.skipped),
            "tag": result.schema.from_name, "not_audited": list(result.schema.others),
            "skipped_reasons": left_out.counts(),
            "unknown_choices": dict(left_out.unknown_choices),
            "queues": _queues(result),
            "expected": queue_expected(result.audit) if result.schema.kind != "boxes" else {},
            "expected_precision": (
                queue_precision(result.audit) if result.schema.kind != "boxes" else {}
            ),
            "source": result.source}  # fmt: skip
