"""The ML backend: a FastAPI app speaking Label Studio's ML backend protocol.

``create_app(settings)`` builds the app (nothing is created at import time); ``serve()`` runs it.
Names are imported lazily, so ``ls_cleanlab.server.command`` (the ``serve`` arguments) loads
without the web framework.

=================  ===============================================================================
``app``            :func:`create_app`: state, routers, middleware, error handlers
``state``          :class:`Backend`: what the routes of one app share
``deps``           FastAPI dependencies giving routes the settings, store, jobs, metrics
``routes/``        one ``APIRouter`` per resource: health, setup, predict, webhook, jobs, metrics
``schemas``        request and response models
``errors``         domain errors -> HTTP statuses and the JSON error body, in one table
``settings``       :class:`Settings` from the environment
``auth``           basic auth, webhook signatures, the body limit
``credentials``    per-project Label Studio URL and key from /setup, kept in the data dir (0600)
``jobs``           the job worker: audits, debounced refreshes, webhook registration
``jobstore``       SQLite: jobs and projects
``predictor``      trained models per project, applied to new tasks
``metrics``        ``/metrics`` through a per-app prometheus-client registry
``command``        the ``serve`` arguments (shared by the three entries) and :func:`serve`
=================  ===============================================================================
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ls_cleanlab.server.app import create_app
    from ls_cleanlab.server.command import serve
    from ls_cleanlab.server.settings import Settings

__all__ = ["Settings", "create_app", "serve"]

_EXPORTS = {
    "Settings": "ls_cleanlab.server.settings",
    "create_app": "ls_cleanlab.server.app",
    "serve": "ls_cleanlab.server.command",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ls_cleanlab.server' has no attribute {name!r}")
