"""Who may call the ML backend, and how much they may send.

* HTTP basic auth (``BASIC_AUTH_USER``/``BASIC_AUTH_PASS``) on every route but ``/webhook``
  when configured (:class:`BasicAuth`);
  Label Studio sends it on ``/health``, ``/setup``, ``/predict``, ``/versions`` and on the
  ``START_TRAINING`` webhook once the ML backend is connected with "Basic auth".
* Label Studio's project webhooks carry no basic auth: the webhooks this backend registers carry
  a secret header instead (:data:`SECRET_HEADER`), checked in constant time. Without basic auth
  configured, ``START_TRAINING`` (which Label Studio posts like a prediction request, without
  the webhook's headers) is accepted unsigned; every other webhook must be signed.
* :class:`BodyLimit`: a body over the limit is refused with 413, declared or chunked, before a
  route reads it.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ls_cleanlab.server.settings import Settings

__all__ = [
    "SECRET_HEADER",
    "WEBHOOK_ACTIONS",
    "BasicAuth",
    "BodyLimit",
    "basic_auth_ok",
    "webhook_signed",
]

SECRET_HEADER = "X-LS-Cleanlab-Secret"
#: The webhook actions the backend registers for (and refreshes on).
WEBHOOK_ACTIONS = (
    "ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED",
    "TASKS_CREATED", "TASKS_DELETED",
)  # fmt: skip


def basic_auth_ok(settings: Settings, header: str | None) -> bool:
    """True when basic auth is off, or ``header`` carries the configured user and password."""
    if settings.basic_auth_user is None or settings.basic_auth_pass is None:
        return True
    if not header or not header.lower().startswith("basic "):
        return False
    try:
        user, _, password = (
            base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return False
    good_user = secrets.compare_digest(user.encode(), settings.basic_auth_user.encode())
    expected = settings.basic_auth_pass.get_secret_value().encode()
    return good_user & secrets.compare_digest(password.encode(), expected)


def webhook_signed(secret: str, header: str | None) -> bool:
    return header is not None and secrets.compare_digest(header.encode(), secret.encode())


class BasicAuth:
    """ASGI middleware: 401 for a request without the configured basic auth, except on
    ``/webhook``, whose route checks the signature or the basic auth itself."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == "/webhook":
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope.get("headers", []) if k == b"authorization"), None)
        if basic_auth_ok(self.settings, header.decode("latin-1") if header else None):
            await self.app(scope, receive, send)
            return
        body = b'{"error": "unauthorized", "detail": "HTTP basic auth is required"}'
        await _answer(send, 401, body, [(b"www-authenticate", b'Basic realm="ls-cleanlab"')])


class BodyLimit:
    """ASGI middleware: 413 for a request body larger than ``limit`` bytes.

    A declared ``Content-Length`` over the limit is refused before anything is read; otherwise
    (chunked bodies too) the body is read here, up to the limit, before the route sees it, so
    an oversized body gets the same ``{"error", "detail"}`` answer whatever its framing, and the
    route's body parsing never runs into the limit halfway.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = True
                if too_big:
                    await _refuse(send, self.limit)
                    return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await _refuse(send, self.limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as ASGI says

        await self.app(scope, replay, send)


async def _refuse(send: Send, limit: int) -> None:
    body = (
        b'{"error": "request body too large", "detail": "the limit is '
        + str(limit).encode()
        + b' bytes (LS_CLEANLAB_MAX_BODY_BYTES)"}'
    )
    await _answer(send, 413, body)


async def _answer(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a JSON error ``body`` (the error body of :mod:`ls_cleanlab.server.errors`)."""
    headers: list[Any] = [(b"content-type", b"application/json"),
                          (b"content-length", str(len(body)).encode()), *(extra or [])]  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
