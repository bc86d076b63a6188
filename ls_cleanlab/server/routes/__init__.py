"""The backend's routes, one :class:`fastapi.APIRouter` per resource (included by
:func:`~ls_cleanlab.server.app.create_app` in this order)."""

from __future__ import annotations

from fastapi import APIRouter

from ls_cleanlab.server.routes import health, jobs, metrics, predict, report, setup, webhook

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    setup.router,
    predict.router,
    webhook.router,
    jobs.router,
    metrics.router,
    report.router,
)
