"""FastAPI dependencies: how a route gets the app's settings and shared state.

Each resolves from ``request.app.state.backend`` (set by
:func:`~ls_cleanlab.server.app.create_app`), so nothing is global; tests replace any of them
with ``app.dependency_overrides[get_settings] = ...`` (and clear the overrides afterwards).
They are ``async`` only because they never block: FastAPI then calls them on the event loop
instead of sending each to a worker thread.
"""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request
from prometheus_client import CollectorRegistry

from ls_cleanlab.server.jobs import JobRunner
from ls_cleanlab.server.jobstore import Store
from ls_cleanlab.server.settings import Settings
from ls_cleanlab.server.state import Backend

__all__ = [
    "BackendDep",
    "JobsDep",
    "MetricsDep",
    "SettingsDep",
    "StoreDep",
    "get_backend",
    "get_jobs",
    "get_metrics",
    "get_settings",
    "get_store",
]


async def get_backend(request: Request) -> Backend:
    return cast(Backend, request.app.state.backend)


BackendDep = Annotated[Backend, Depends(get_backend)]


async def get_settings(backend: BackendDep) -> Settings:
    return backend.settings


async def get_store(backend: BackendDep) -> Store:
    return backend.store


async def get_jobs(backend: BackendDep) -> JobRunner:
    return backend.jobs


async def get_metrics(backend: BackendDep) -> CollectorRegistry:
    return backend.metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]
MetricsDep = Annotated[CollectorRegistry, Depends(get_metrics)]
