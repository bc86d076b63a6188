"""``POST /webhook``: Label Studio's events.

Annotation and task events (signed with our header, see :mod:`ls_cleanlab.server.auth`) mark the
project changed and answer at once (Label Studio waits 1 s); a debounced refresh follows.
``START_TRAINING`` (the "Start training" button) queues a full audit and answers with its job.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from ls_cleanlab.server.auth import SECRET_HEADER, WEBHOOK_ACTIONS, basic_auth_ok, webhook_signed
from ls_cleanlab.server.deps import BackendDep, JobsDep, SettingsDep, StoreDep
from ls_cleanlab.server.errors import ApiError, responses
from ls_cleanlab.server.schemas import MAX_ID, WebhookRequest, WebhookResponse

__all__ = ["router"]

router = APIRouter(tags=["Label Studio"], responses=responses(400, 401, 404, 413, 422))

TRAINING = "START_TRAINING"

logger = logging.getLogger("ls_cleanlab")

#: Seconds between two log lines about refused webhooks of one project.
REFUSED_LOG_EVERY = 60.0
_refused_logged: dict[Any, float] = {}
_refused_lock = threading.Lock()


def _log_refused(project: Any, action: str) -> None:
    """Say in the log why a project's webhooks are refused (Label Studio drops the answer, so
    refreshes otherwise stop without a word), at most once a minute per project."""
    key = project if isinstance(project, int) else None
    now = time.monotonic()
    with _refused_lock:
        if now - _refused_logged.get(key, -REFUSED_LOG_EVERY) < REFUSED_LOG_EVERY:
            return
        if len(_refused_logged) > 1000:  # made-up project ids do not grow it without bound
            _refused_logged.clear()
        _refused_logged[key] = now
    logger.warning(
        "refused an unsigned %r webhook for project %s: it lacks the %s header this backend "
        "registers (another backend's, or one registered before this data dir); annotations "
        "will not refresh the tabs until the model is connected again in Label Studio "
        "(Settings -> Model), which calls /setup and signs the webhook",
        action[:40], key, SECRET_HEADER,
    )  # fmt: skip


async def caller_allowed(request: Request, backend: BackendDep, settings: SettingsDep) -> bool:
    """Whether the caller signed the webhook, or sent the configured basic auth (async: it never
    blocks)."""
    signed = webhook_signed(backend.secret, request.headers.get(SECRET_HEADER))
    has_auth = settings.basic_auth_user is not None and basic_auth_ok(
        settings, request.headers.get("authorization")
    )
    return signed or has_auth


@router.post("/webhook", response_model_exclude_none=True)
def webhook(
    body: WebhookRequest,
    allowed: Annotated[bool, Depends(caller_allowed)],
    settings: SettingsDep,
    store: StoreDep,
    jobs: JobsDep,
) -> WebhookResponse:
    """Queue a refresh (annotation and task events) or an audit (``START_TRAINING``)."""
    training = body.action == TRAINING
    # Without basic auth configured, START_TRAINING comes unsigned (Label Studio posts it like a
    # prediction request, without the webhook's headers).
    if not (allowed or (training and settings.basic_auth_user is None)):
        _log_refused((body.project or {}).get("id"), body.action)
        detail = f"webhooks must carry the {SECRET_HEADER} header the backend registers"
        raise ApiError(401, "unsigned webhook", detail)
    project = (body.project or {}).get("id")
    if isinstance(project, bool) or not isinstance(project, int) or not 1 <= project <= MAX_ID:
        raise ApiError(422, "invalid request", "project.id must be a positive integer")
    if training:
        job = jobs.submit(project, "audit")
        return WebhookResponse(job=str(job.id), status=job.state)
    if body.action not in WEBHOOK_ACTIONS:
        return WebhookResponse(status="ignored", action=body.action)
    if store.project(project) is None:
        detail = f"project {project} was never set up with this backend"
        raise ApiError(404, "unknown project", detail)
    jobs.changed(project)
    return WebhookResponse(status="queued", action=body.action)
