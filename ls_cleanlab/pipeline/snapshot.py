"""A project's tasks, fetched incrementally against a snapshot kept in the workspace.

Label Studio, not the math, is the slow part of a sync: with a snapshot, only the tasks changed
since the last fetch are listed (plus the ids of all tasks, so deleted ones drop out).
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from typing import Any

from ls_cleanlab.pipeline.options import Progress
from ls_cleanlab.pipeline.workspace import Workspace
from ls_cleanlab.studio import StudioClient

__all__ = ["fetch_with_snapshot"]

logger = logging.getLogger("ls_cleanlab")


def fetch_with_snapshot(
    client: StudioClient,
    project: int,
    workspace: Workspace | None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """All tasks of a project, sorted by id; with a ``workspace``, only what changed since the
    last snapshot is fetched, and the snapshot is updated (atomically)."""

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress("fetch", done, total)

    path = workspace.snapshot(project) if workspace is not None else None
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
