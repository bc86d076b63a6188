"""Runs: every pushed audit's predictions carry a version of their own, so a re-audit never
waits for Label Studio to delete the previous one.

Label Studio deletes predictions one at a time (about 84 s per 5,000), so replacing a model
version's predictions in place kept the tabs stale for minutes. Instead each run gets an id
(:func:`new_run_id`: UTC time and 4 random hex digits, always 18 characters) and its predictions
the version ``<model_version>-<run id>`` (:func:`run_version`); their queue markers carry the run
id too (:func:`~ls_cleanlab.pipeline.queues.run_marker`). :func:`publish_run` then

1. imports the new run's predictions (nothing is deleted; a failed import removes its own part
   and leaves the previous run, its tabs and the project's version as they were);
2. points every review tab at the new run's markers: the tabs show the new run as soon as its
   predictions are in, and never tasks of two runs;
3. makes the new version the project's ``model_version`` (the Data Manager's prediction score and
   the labeling stream follow it) and records it as the project's current run in the workspace,
   which is what the ML backend's ``/setup`` and ``/predict`` answer from then on;
4. lists the earlier runs' versions (:func:`stale_versions`: ours are the base version itself,
   from before runs existed, and ``<model_version>-<run id>``), for :func:`remove_runs` to delete
   in the background: the backend's job runner, or a thread of the CLI.

Label Studio skips predicting a task that already has a prediction of the version ``/setup``
returned, and calls ``/setup`` before every prediction request, so the backend answering the
current run's version keeps the two consistent: tasks of the current run are skipped, new tasks
are predicted under it.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ls_cleanlab.pipeline.options import Progress
from ls_cleanlab.pipeline.queues import Queue, queue_view
from ls_cleanlab.pipeline.workspace import Workspace
from ls_cleanlab.studio import LabelSchema, PushReport, StudioClient

__all__ = [
    "CurrentRun",
    "Publication",
    "current_run",
    "new_run_id",
    "publish_run",
    "record_run",
    "remove_runs",
    "run_version",
    "stale_versions",
]

logger = logging.getLogger("ls_cleanlab")

_RUN = r"\d{14}[0-9a-f]{4}"


def new_run_id(now: datetime | None = None) -> str:
    """A run id: the UTC time to the second and 4 random hex digits, e.g.
    ``"20261129023000a3f9"`` (always 18 characters, sorting by time)."""
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return stamp.strftime("%Y%m%d%H%M%S") + secrets.token_hex(2)


def run_version(base: str, run: str | None) -> str:
    """The model version of run ``run``'s predictions (``base`` itself without a run)."""
    return base if run is None else f"{base}-{run}"


def is_ours(version: str, base: str) -> bool:
    """True for ``base`` and for the versions of its runs."""
    return version == base or re.fullmatch(re.escape(base) + "-" + _RUN, version) is not None


@dataclass(frozen=True)
class CurrentRun:
    """The run whose predictions a project's tabs show: its ``version`` and ``run`` id (None
    for predictions pushed before runs existed, under ``base`` itself)."""

    base: str
    version: str
    run: str | None = None


def current_run(workspace: Workspace | None, project: int, base: str) -> CurrentRun:
    """The project's current run of model version ``base``, as last recorded."""
    found = workspace.read_json(workspace.current_run(project)) if workspace else None
    if isinstance(found, dict) and found.get("base") == base:
        run = found.get("run")
        if isinstance(run, str) and re.fullmatch(_RUN, run):
            return CurrentRun(base, run_version(base, run), run)
    return CurrentRun(base, base, None)


def record_run(workspace: Workspace, project: int, run: CurrentRun) -> None:
    """Remember ``run`` as the project's current run (atomically)."""
    workspace.write_json(workspace.current_run(project),
                         {"base": run.base, "version": run.version, "run": run.run})  # fmt: skip


@dataclass(frozen=True)
class Publication:
    """What :func:`publish_run` did: the import, the tabs (title -> view id), the run, and the
    earlier versions of ours still in the project (``stale``, for :func:`remove_runs`)."""

    push: PushReport
    views: dict[str, int]
    run: CurrentRun
    stale: tuple[str, ...]


def publish_run(
    client: StudioClient,
    project: int,
    predictions: Sequence[Any],
    *,
    queues: Sequence[Queue],
    base: str,
    run: str,
    task_ids: Sequence[int] | None = None,
    choices_name: str | None = None,
    workspace: Workspace | None = None,
    progress: Progress | None = None,
    schema: LabelSchema | None = None,
) -> Publication:
    """Push a run's predictions and point the project at them (see the module docs); deletes
    nothing.

    Parameters
    ----------
    predictions : sequence of dict
        All of version ``run_version(base, run)``, their markers of run ``run``.
    queues : sequence of Queue
        The task kind's review tabs.
    schema : LabelSchema, optional
        The project's: the tabs then hide all but the useful columns.
    """
    version = run_version(base, run)

    def sent(done: int, total: int) -> None:
        if progress is not None:
            progress("push", done, total)

    push = client.import_predictions(
        project, predictions, model_version=version, choices_name=choices_name,
        task_ids=task_ids, progress=sent,
    )  # fmt: skip
    columns = client.columns(project) if schema is not None else ()
    views = {
        q.title: client.ensure_view(project, q.title, **queue_view(q, columns, schema, run=run))
        for q in queues
    }
    client.set_model_version(project, version)
    current = CurrentRun(base, version, run)
    if workspace is not None:
        record_run(workspace, project, current)
    stale = stale_versions(client, project, base, keep=version)
    return Publication(push, views, current, stale)


def stale_versions(client: StudioClient, project: int, base: str, *, keep: str) -> tuple[str, ...]:
    """Versions of ours in the project other than ``keep``, oldest first."""
    found = client.model_versions(project)
    return tuple(sorted(v for v in found if v != keep and is_ours(v, base)))


#: Seconds :func:`remove_runs` waits per prediction of a run (Label Studio deletes about 50 a
#: second on SQLite; a tenth of that leaves room for a busy server).
REMOVE_SECONDS_PER_PREDICTION = 0.2


def remove_runs(client: StudioClient, project: int, versions: Sequence[str]) -> int:
    """Delete the predictions of ``versions`` (one request each: Label Studio deletes a version
    in one transaction, one prediction at a time, and answers at the end: 20,000 took longer
    than the session's 300 s, so the wait grows with the run's size); returns how many were
    deleted."""
    deleted = 0
    sizes = client.model_versions(project)
    for version in versions:
        wait = max(client.session.timeout, REMOVE_SECONDS_PER_PREDICTION * sizes.get(version, 0))
        count = client.delete_predictions(project, version, timeout=wait)
        logger.info("removed %d predictions of %s from project %d", count, version, project)
        deleted += count
    return deleted
