"""SQLite state of the ML backend: projects it was set up for, and background jobs.

One file (``<data dir>/backend.sqlite``), one connection guarded by a lock (the web server and
the job worker share it), WAL journal. Jobs move ``queued -> running -> done | failed``;
:meth:`Store.recover` puts jobs a crash or restart left ``running`` back in the queue (they
resume from what their stages kept), at most :data:`MAX_RESUMES` times each; a job interrupted
more often than that is marked failed, with the reason.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["JOB_KINDS", "JOB_STATES", "Job", "Store"]

JobKind = Literal["audit", "refresh", "register"]
JobState = Literal["queued", "running", "done", "failed"]
JOB_KINDS: tuple[str, ...] = ("audit", "refresh", "register", "cleanup")
JOB_STATES: tuple[str, ...] = ("queued", "running", "done", "failed")
#: How often one job is resumed after restarts before it is given up (it may be what crashes).
MAX_RESUMES = 2
INTERRUPTED = (
    f"interrupted by {MAX_RESUMES + 1} restarts of the backend (it may be what stops it: see the "
    "backend's log); start training again"
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project INTEGER NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    stage TEXT,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    summary TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    resumed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_project ON jobs (project, state);
CREATE TABLE IF NOT EXISTS projects (
    project INTEGER PRIMARY KEY,
    uid TEXT,
    hostname TEXT,
    model_version TEXT NOT NULL,
    setup_at REAL,
    audited_at REAL,
    refreshed_at REAL,
    flagged TEXT
);
"""


@dataclass(frozen=True)
class Job:
    """One background job (see the module docs for the states)."""

    id: int
    project: int
    kind: str
    state: str
    reason: str | None
    stage: str | None
    done: int
    total: int
    summary: dict[str, Any] | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    resumed: int = 0

    def as_json(self) -> dict[str, Any]:
        """The job as the API shows it."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class Store:
    """The backend's SQLite database at ``path`` (created if missing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        if "resumed" not in columns:  # a data dir from before jobs were resumed
            self._db.execute("ALTER TABLE jobs ADD COLUMN resumed INTEGER NOT NULL DEFAULT 0")
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(projects)")}
        if "tag" not in columns:  # a data dir from before projects chose their tag
            self._db.execute("ALTER TABLE projects ADD COLUMN tag TEXT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- jobs -------------------------------------------------------------------------------------

    def add_job(self, project: int, kind: str) -> Job:
        """A new ``queued`` job."""
        if kind not in JOB_KINDS:
            raise ValueError(f"kind must be one of {JOB_KINDS}, got {kind!r}")
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO jobs (project, kind, state, created_at) VALUES (?, ?, 'queued', ?)",
                (int(project), kind, time.time()),
            )
            job_id = int(cursor.lastrowid or 0)
        return self.job(job_id)  # type: ignore[return-value]

    def job(self, job_id: int) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (int(job_id),)).fetchone()
        return _job(row) if row else None

    def jobs(self, *, project: int | None = None, state: str | None = None) -> list[Job]:
        query, args = "SELECT * FROM jobs WHERE 1=1", list[Any]()
        if project is not None:
            query, args = query + " AND project = ?", [*args, int(project)]
        if state is not None:
            query, args = query + " AND state = ?", [*args, state]
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [_job(r) for r in rows]

    def start(self, job_id: int) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET state = 'running', started_at = ? WHERE id = ?",
                (time.time(), int(job_id)),
            )

    def progress(self, job_id: int, stage: str, done: int, total: int) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET stage = ?, done = ?, total = ? WHERE id = ?",
                (stage, int(done), int(total), int(job_id)),
            )

    def finish(
        self,
        job_id: int,
        *,
        reason: str | None = None,
        summary: dict[str, Any] | None = None,
    ) -> None:
        """Mark a job ``done`` (no reason) or ``failed`` (with the reason)."""
        state = "failed" if reason is not None else "done"
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET state = ?, reason = ?, summary = ?, finished_at = ? WHERE id = ?",
                (state, reason, json.dumps(summary) if summary else None, time.time(), job_id),
            )

    def recover(self) -> tuple[list[int], list[int]]:
        """Put jobs left ``running`` by a previous process back in the queue (counting the
        resume), or mark them failed when they were resumed :data:`MAX_RESUMES` times already;
        return ``(resumed, failed)`` job ids. Queued jobs stay queued."""
        with self._tx() as db:
            rows = db.execute("SELECT id, resumed FROM jobs WHERE state = 'running'").fetchall()
            again = [int(i) for i, n in rows if n < MAX_RESUMES]
            given_up = [int(i) for i, n in rows if n >= MAX_RESUMES]
            db.executemany(
                "UPDATE jobs SET state = 'queued', resumed = resumed + 1, started_at = NULL "
                "WHERE id = ?",
                [(i,) for i in again],
            )
            db.executemany(
                "UPDATE jobs SET state = 'failed', reason = ?, finished_at = ? WHERE id = ?",
                [(INTERRUPTED, time.time(), i) for i in given_up],
            )
        return again, given_up

    def job_counts(self) -> dict[tuple[str, str], int]:
        """(kind, state) -> number of jobs."""
        with self._lock:
            rows = self._db.execute("SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state")
            return {(str(k), str(s)): int(n) for k, s, n in rows.fetchall()}

    # -- projects ---------------------------------------------------------------------------------

    def set_up(
        self, project: int, uid: str, hostname: str | None, model_version: str,
        tag: str | None = None,
    ) -> None:  # fmt: skip
        """Record a ``/setup`` call (idempotent): ``tag`` is the control tag its extra params
        chose (None: the config's default)."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO projects (project, uid, hostname, model_version, setup_at, tag) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(project) DO UPDATE SET uid = excluded.uid, "
                "hostname = excluded.hostname, model_version = excluded.model_version, "
                "setup_at = excluded.setup_at, tag = excluded.tag",
                (int(project), uid, hostname, model_version, time.time(), tag),
            )

    def tag(self, project: int) -> str | None:
        """The control tag ``project``'s last ``/setup`` chose, or None."""
        found = self.project(project)
        return found.get("tag") if found else None

    def project(self, project: int) -> dict[str, Any] | None:
        with self._lock:
            cursor = self._db.execute("SELECT * FROM projects WHERE project = ?", (int(project),))
            row = cursor.fetchone()
            names = [d[0] for d in cursor.description]
        if row is None:
            return None
        found = dict(zip(names, row, strict=True))
        found["flagged"] = json.loads(found["flagged"]) if found["flagged"] else {}
        return found

    def projects(self) -> list[dict[str, Any]]:
        with self._lock:
            ids = [r[0] for r in self._db.execute("SELECT project FROM projects ORDER BY project")]
        return [p for p in (self.project(i) for i in ids) if p is not None]

    def audited(
        self, project: int, model_version: str, flagged: dict[str, Any], full: bool
    ) -> None:
        """Record an audit (``full``) or a refresh, with what it flagged."""
        column = "audited_at" if full else "refreshed_at"
        with self._tx() as db:
            db.execute(
                "INSERT INTO projects (project, model_version) VALUES (?, ?) "
                "ON CONFLICT(project) DO NOTHING",
                (int(project), model_version),
            )
            db.execute(
                f"UPDATE projects SET {column} = ?, flagged = ? WHERE project = ?",
                (time.time(), json.dumps(flagged), int(project)),
            )


def _job(row: tuple[Any, ...]) -> Job:
    (id_, project, kind, state, reason, stage, done, total, summary, created, started, ended,
     resumed) = row  # fmt: skip
    return Job(
        id=int(id_), project=int(project), kind=kind, state=state, reason=reason, stage=stage,
        done=int(done), total=int(total), summary=json.loads(summary) if summary else None,
        created_at=created, started_at=started, finished_at=ended, resumed=int(resumed or 0),
    )  # fmt: skip
