"""Errors of the ML backend as HTTP answers, in one place.

Every error answer is JSON ``{"error": <short title>, "detail": <what and how to fix>}``.
Domain errors (:class:`~ls_cleanlab.errors.LsCleanlabError`) are mapped by kind through
:data:`DOMAIN_ERRORS`, the first matching row wins:

=================================  ======  ====================================================
kind                               status  why
=================================  ======  ====================================================
``StudioAuthError``                502     Label Studio refused the backend's key
``StudioUnreachableError``         503     Label Studio cannot be reached (or answers 5xx)
``StudioRequestError``             502     Label Studio gave an answer its API does not promise
``StudioNotConfiguredError``       503     no Label Studio URL and key for the project yet
``ExtractorUnavailableError``      409     the model's feature extractor cannot run here
``EngineError``                    503     the Dask cluster cannot run the work
``MissingExtraError``              500     the backend lacks a package (the ``embed`` extra)
``WeightsError``                   500     an embedder's installed files fail their SHA-256
``LabelConfigError`` ...           422     bad input: label config, tasks, options, media
other ``LsCleanlabError``          500     a domain error with no HTTP meaning of its own
=================================  ======  ====================================================

Validation errors of a request are 422 (400 for a body that is not JSON), :class:`ApiError` is
a route's own refusal (401, 404, 413), and anything else a 500 without detail. A traceback never
reaches a body; domain messages are written without keys or passwords.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ls_cleanlab.errors import (
    EngineError,
    ExtractorUnavailableError,
    InvalidAnnotationsError,
    InvalidLabelsError,
    InvalidOptionError,
    InvalidPredProbsError,
    InvalidTasksError,
    LabelConfigError,
    LsCleanlabError,
    MediaError,
    MissingExtraError,
    StudioAuthError,
    StudioError,
    StudioRequestError,
    StudioUnreachableError,
    WeightsError,
)

__all__ = [
    "DOMAIN_ERRORS",
    "ApiError",
    "CatchAll",
    "ErrorBody",
    "StudioNotConfiguredError",
    "error_response",
    "install_error_handlers",
    "responses",
]

logger = logging.getLogger("ls_cleanlab")


class StudioNotConfiguredError(LsCleanlabError):
    """The backend has no Label Studio URL and key for a project: neither the environment
    (``LABEL_STUDIO_URL``, ``LABEL_STUDIO_API_KEY``) nor a ``/setup`` call brought them."""


class ApiError(Exception):
    """A route's own refusal, answered as ``{"error": error, "detail": detail}``."""

    def __init__(
        self, status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers


class ErrorBody(BaseModel):
    """Every error answer of the backend."""

    error: str
    detail: Any = None


#: (kind, status, title) for domain errors; the first row the error is an instance of wins.
DOMAIN_ERRORS: tuple[tuple[type[LsCleanlabError], int, str], ...] = (
    (StudioAuthError, 502, "Label Studio refused the key"),
    (StudioUnreachableError, 503, "Label Studio unreachable"),
    (StudioRequestError, 502, "bad answer from Label Studio"),
    (StudioError, 502, "Label Studio error"),
    (StudioNotConfiguredError, 503, "no Label Studio configured"),
    (ExtractorUnavailableError, 409, "feature extractor unavailable"),
    (EngineError, 503, "compute engine unavailable"),
    (MissingExtraError, 500, "backend package missing"),
    (WeightsError, 500, "embedder files corrupt"),
    (LabelConfigError, 422, "unsupported label config"),
    (InvalidTasksError, 422, "invalid tasks"),
    (InvalidOptionError, 422, "invalid option"),
    (InvalidAnnotationsError, 422, "invalid annotations"),
    (InvalidLabelsError, 422, "invalid labels"),
    (InvalidPredProbsError, 422, "invalid probabilities"),
    (MediaError, 422, "unusable task media"),
    (LsCleanlabError, 500, "error"),
)


def error_response(
    status: int, error: str, detail: Any = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def domain_status(error: LsCleanlabError) -> tuple[int, str]:
    """The HTTP status and title of a domain error (see the table in the module docs)."""
    for kind, status, title in DOMAIN_ERRORS:
        if isinstance(error, kind):
            return status, title
    return 500, "error"  # unreachable: the last row matches every LsCleanlabError


#: What each status means in the OpenAPI schema.
_MEANINGS = {
    400: "the body is not JSON",
    401: "basic auth (or the webhook's signature) is missing or wrong",
    404: "no such job or project",
    409: "the trained model's feature extractor cannot run here",
    413: "the body or the number of tasks is over the limit",
    422: "invalid input (the detail names the field)",
    502: "Label Studio refused the key or answered wrongly",
    503: "Label Studio is unreachable or not configured",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses, all with :class:`ErrorBody`."""
    return {s: {"model": ErrorBody, "description": _MEANINGS[s]} for s in statuses}


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LsCleanlabError)  # registered for this class only
    status, title = domain_status(exc)
    # Label Studio shows a refused /setup as "check the ML backend server console logs"
    if status >= 500 or request.url.path == "/setup":
        logger.warning("%s %s: %s: %s", request.method, request.url.path, title, exc)
    return error_response(status, title, str(exc))


async def _api(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.error, exc.detail, exc.headers)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # unknown paths, wrong methods
    return error_response(exc.status_code, str(exc.detail), None, exc.headers)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "malformed JSON", "the request body is not valid JSON")
    detail = [{"field": ".".join(str(p) for p in e.get("loc", ())),
               "message": str(e.get("msg", ""))} for e in errors[:20]]  # fmt: skip
    return error_response(422, "invalid request", detail)


class CatchAll:
    """ASGI middleware: an unexpected exception becomes a 500 ``{"error", "detail"}`` answer and
    one log line naming its type (a message or traceback of an unexpected error may carry
    anything; ``LOG_LEVEL=DEBUG`` logs the traceback). Unlike an ``Exception`` handler, which
    Starlette calls and then re-raises to the server (which logs the traceback), nothing
    propagates."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            debug = logger.isEnabledFor(logging.DEBUG)
            where = f"{scope.get('method')} {scope.get('path')}"
            logger.error("%s crashed: %s", where, type(exc).__name__, exc_info=debug)
            if not started:
                await error_response(500, "internal error", None)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` with the JSON error body (call before adding the other
    middleware: the catch-all must sit inside them)."""
    app.add_exception_handler(LsCleanlabError, _domain)
    app.add_exception_handler(ApiError, _api)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_middleware(CatchAll)
