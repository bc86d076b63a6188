"""What the routes of one app share: :class:`Backend`.

One ``Backend`` per app (``app.state.backend``), built by
:func:`~ls_cleanlab.server.app.create_app` from its settings; the routes reach it through the
dependencies in :mod:`ls_cleanlab.server.deps`. Nothing here is module-global: two apps on two
data dirs share nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from ls_cleanlab.engine import Engine, open_engine
from ls_cleanlab.pipeline.runs import current_run
from ls_cleanlab.pipeline.workspace import Workspace
from ls_cleanlab.server.credentials import Credentials, CredentialStore, StudioAccess
from ls_cleanlab.server.errors import StudioNotConfiguredError
from ls_cleanlab.server.jobs import JobRunner
from ls_cleanlab.server.jobstore import Store
from ls_cleanlab.server.metrics import metrics_registry
from ls_cleanlab.server.predictor import Predictor, WatchedFetcher
from ls_cleanlab.server.settings import Settings
from ls_cleanlab.studio import LabelSchema, StudioClient

__all__ = ["Backend"]

logger = logging.getLogger("ls_cleanlab")

#: Seconds between two webhook registrations of one project.
REGISTER_EVERY = 600.0


class Backend:
    """Settings, job store, feature cache, predictor, jobs, credentials and metrics of one app.

    Opening it creates the data dir and opens the SQLite files; :meth:`start` starts the job
    worker and :meth:`close` stops it and closes the files (the app's lifespan calls both).
    """

    def __init__(self, settings: Settings, *, engine: Engine | None = None) -> None:
        self.settings = settings
        self._own_engine = engine is None
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.workspace = Workspace(settings.data_dir)
        self.store = Store(self.workspace.backend_db)
        self.cache = self.workspace.feature_cache()
        self.predictor = Predictor(self.workspace, self.cache)
        self.credentials = CredentialStore(self.workspace)
        self.engine: Engine | None = engine
        self.jobs = JobRunner(settings, self.store, self.predictor, self.client,
                              engine.executor if engine is not None else None)  # fmt: skip
        self.metrics: CollectorRegistry = metrics_registry(self.store, self.jobs.pending)
        self.secret = settings.secret()
        self._registered: dict[int, float] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        if self.engine is None and self.settings.dask_scheduler:
            self.engine = open_engine(self.settings.dask_scheduler)  # EngineError stops the app
            self.jobs.executor = self.engine.executor
        if self.engine is not None:
            where = self.engine.description
            logger.info("audits run %s", where if where == "in process" else f"on the {where}")
        self.jobs.start()

    def close(self) -> None:
        self.jobs.stop()
        if self.engine is not None and self._own_engine:
            self.engine.close()
        self.cache.close()
        self.store.close()

    # -- Label Studio ---------------------------------------------------------------------------

    def set_up(
        self, project: int, uid: str, hostname: str | None, token: SecretStr | None,
        tag: str | None = None,
    ) -> None:  # fmt: skip
        """Record a ``/setup`` call: the project, the control tag its extra params chose, the
        credentials it brought, our webhooks."""
        self.store.set_up(project, uid, hostname, self.settings.model_version, tag)
        self.credentials.save(project, Credentials(hostname, token))
        self.register_soon(project)

    def current_version(self, project: int, base: str | None = None) -> str:
        """The model version of the project's current run of ``base`` (default the settings'
        model version): what ``/setup`` and ``/predict`` answer (Label Studio predicts only
        tasks without a prediction of it)."""
        return current_run(self.workspace, project, base or self.settings.model_version).version

    def access(self, project: int) -> StudioAccess:
        """Label Studio's URL and key for ``project`` (raises ``StudioNotConfiguredError``)."""
        return self.credentials.access(project, self.settings)

    def client(self, project: int) -> StudioClient:
        found = self.access(project)
        return StudioClient(found.url, found.key.get_secret_value(), timeout=120.0, retries=2)

    def fetcher(self, project: int) -> WatchedFetcher:
        """Media for ``project``; without Label Studio's URL and key, only local files,
        allowlisted hosts and ``data:`` URIs."""
        try:
            found: StudioAccess | None = self.access(project)
        except StudioNotConfiguredError:
            found = None
        return WatchedFetcher(
            found.url if found else None, found.key.get_secret_value() if found else None,
            key_from_setup=bool(found and found.from_setup), allowed_hosts=self.settings.hosts,
            local_files_root=self.settings.local_files_root,
        )  # fmt: skip

    def register_soon(self, project: int) -> None:
        """Sign the project's webhooks (at most every 10 minutes per project)."""
        if not self.settings.register_webhooks:
            return
        with self._lock:
            if time.time() - self._registered.get(project, 0.0) < REGISTER_EVERY:
                return
            self._registered[project] = time.time()
        self.jobs.submit(project, "register")

    # -- predictions ----------------------------------------------------------------------------

    def predict(
        self, project: int, tasks: Sequence[Mapping[str, Any]], schema: LabelSchema
    ) -> list[dict[str, Any]]:
        """One prediction per task, with the project's trained model (empty before its first
        audit)."""
        with self.fetcher(project) as fetcher:
            return self.predictor.predict(
                project, tasks, schema, self.settings.model_version, fetcher,
                version=self.current_version(project),
            )  # fmt: skip
