"""``GET /metrics``: Prometheus text from the app's own registry (see
:mod:`ls_cleanlab.server.metrics` for the metrics)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ls_cleanlab.server.deps import MetricsDep
from ls_cleanlab.server.errors import responses
from ls_cleanlab.server.metrics import CONTENT_TYPE, metrics_text

__all__ = ["router"]

router = APIRouter(tags=["monitoring"], responses=responses(401))

_TEXT = {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}},
         "description": "Prometheus text format"}  # fmt: skip


@router.get("/metrics", response_class=Response, responses={200: _TEXT})
def metrics(registry: MetricsDep) -> Response:
    """Jobs, queue, last audits, flagged tasks, annotator quality."""
    return Response(metrics_text(registry), media_type=CONTENT_TYPE)
