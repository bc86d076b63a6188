"""The ML backend's app factory: :func:`create_app`.

Routes (one router module each, in :mod:`ls_cleanlab.server.routes`):

=====================  ===========================================================================
``GET /health``        ``{"status": "UP", "model_class": ..., "model_version": ...}``
``POST /setup``        records the project, returns ``{"model_version": ...}`` (fast, idempotent)
``POST /predict``      one result per task, in order; empty results before the first audit
``POST /webhook``      annotation/task events: debounced refresh (answers at once);
                       ``START_TRAINING``: a full audit job, answered with its id
``GET /versions``      ``{"versions": [...]}``
``POST /jobs``         start a job (``{"project": 12, "kind": "audit"}``)
``GET /jobs/{id}``     a job's state, stage, progress, reason (``GET /jobs?project=``: the last 100)
``GET /metrics``       Prometheus text: jobs, queue, last audit, flagged tasks, annotator quality
=====================  ===========================================================================

Errors are JSON ``{"error": ..., "detail": ...}`` (:mod:`ls_cleanlab.server.errors` maps them);
a traceback never reaches a response, keys and passwords never reach a response or a log line.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ls_cleanlab.engine import Engine
from ls_cleanlab.server.auth import BasicAuth, BodyLimit
from ls_cleanlab.server.errors import install_error_handlers
from ls_cleanlab.server.routes import ROUTERS
from ls_cleanlab.server.settings import Settings
from ls_cleanlab.server.state import Backend

__all__ = ["create_app"]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    backend: Backend = app.state.backend
    backend.start()
    try:
        yield
    finally:
        backend.close()


def create_app(settings: Settings, *, engine: Engine | None = None) -> FastAPI:
    """The ML backend app for ``settings``: its state (:class:`~ls_cleanlab.server.state.Backend`,
    opened now; the job worker starts with the app's lifespan), routers, middleware and error
    handlers. ``engine``: an open engine (:func:`~ls_cleanlab.engine.open_engine`) for the audit
    jobs, kept open by the caller; default the one ``settings.dask_scheduler`` names, opened and
    closed with the app."""
    logging.getLogger("ls_cleanlab").setLevel(settings.log_level)
    _ignore_route_parameter_alarm()
    app = FastAPI(title="ls-cleanlab ML backend", version="1", lifespan=_lifespan)
    app.state.backend = Backend(settings, engine=engine)
    install_error_handlers(app)  # its catch-all is the innermost middleware
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(BasicAuth, settings=settings)  # outermost: runs first
    for router in ROUTERS:
        app.include_router(router)
    return app


def _ignore_route_parameter_alarm() -> None:
    """Ignore pydantic's ``UnsupportedFieldAttributeWarning`` (pydantic 2.12 and later) for the
    process. FastAPI raises it on every aliased route parameter, a false positive
    (pydantic#12356) it hides inside ``warnings.catch_warnings()``; that swaps process-wide
    filters, so a job thread doing the same (Pillow, scikit-learn) could drop FastAPI's and
    the warning reached the log at a request during an audit."""
    try:
        from pydantic.warnings import UnsupportedFieldAttributeWarning
    except ImportError:  # older pydantic does not warn
        return
    warnings.filterwarnings("ignore", category=UnsupportedFieldAttributeWarning, module="pydantic")
