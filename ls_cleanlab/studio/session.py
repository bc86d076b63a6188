"""HTTP to Label Studio: authentication, timeouts, retries and errors, in one place.

Two kinds of API key work: a personal access token (a JWT refresh token; exchanged at
``/api/token/refresh/`` for a short-lived access token, sent as ``Bearer`` and refreshed on 401)
and a legacy token (sent as ``Token``). Idempotent requests are retried with exponential backoff
on 5xx answers and connection errors; a ``POST`` is retried only when the connection was never
made, so nothing is created twice. Keys never appear in messages or logs.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import requests

from ls_cleanlab.errors import (
    StudioAuthError,
    StudioRequestError,
    StudioUnreachableError,
)

__all__ = ["StudioSession", "is_personal_token"]

logger = logging.getLogger(__name__)

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "PATCH"})


def is_personal_token(key: str) -> bool:
    """True when ``key`` looks like a personal access token (a JWT refresh token)."""
    parts = key.split(".")
    if len(parts) != 3:
        return False
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, Mapping):
        parts = [str(body[key]) for key in ("detail", "message", "error") if body.get(key)]
        if body.get("validation_errors"):
            parts.append(str(body["validation_errors"]))
        if parts:
            return ": ".join(parts)[:800]
    return str(body)[:800]


class StudioSession:
    """An authenticated, retrying ``requests`` session bound to one Label Studio URL.

    Parameters
    ----------
    url : str
        Label Studio's base URL, e.g. ``http://localhost:8080``.
    api_key : str
        A personal access token or a legacy token.
    timeout : float
        Seconds to wait for an answer (connecting waits at most 10 s).
    retries : int
        Extra attempts after a 5xx answer or a connection error.
    backoff : float
        Seconds before the first retry; doubles each time.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = 300.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise StudioRequestError(
                f"the Label Studio URL must start with http:// or https://, got {url!r}."
            )
        if not isinstance(api_key, str) or not api_key.strip():
            raise StudioAuthError(
                "no Label Studio API key given; copy one from Account & Settings in Label Studio "
                "(or set LABEL_STUDIO_API_KEY)."
            )
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.personal = is_personal_token(api_key.strip())
        self._key = api_key.strip()
        self._access: str | None = None
        self._http = requests.Session()

    def __repr__(self) -> str:  # never show the key
        kind = "personal access token" if self.personal else "legacy token"
        return f"StudioSession({self.url!r}, {kind})"

    def close(self) -> None:
        """Close the underlying connections."""
        self._http.close()

    def clone(self, *, retries: int | None = None) -> StudioSession:
        """A new session with the same URL and key (its own connections and token cache),
        optionally with another number of ``retries``; for work in another object or thread."""
        return StudioSession(
            self.url,
            self._key,
            timeout=self.timeout,
            retries=self.retries if retries is None else retries,
            backoff=self.backoff,
        )

    def __getstate__(self) -> dict[str, Any]:
        """Pickled as its URL, key and options (for an executor's workers): no connections and
        no short-lived access token; the copy opens its own."""
        state = dict(self.__dict__)
        state["_http"] = None
        state["_access"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._http = requests.Session()

    # -- auth -----------------------------------------------------------------------------------

    def auth_headers(self, *, refresh: bool = False) -> dict[str, str]:
        """The ``Authorization`` header for a request to this Label Studio, for callers that send
        the request themselves (media downloads). Send it to no other host.

        Parameters
        ----------
        refresh : bool
            Drop the cached access token first (after a 401); only matters for personal access
            tokens.
        """
        if refresh:
            self._access = None
        return {"Authorization": self._auth_header()}

    def _auth_header(self) -> str:
        if not self.personal:
            return f"Token {self._key}"
        if self._access is None:
            self._access = self._refresh()
        return f"Bearer {self._access}"

    def _refresh(self) -> str:
        response = self._send("POST", "/api/token/refresh/", {"json": {"refresh": self._key}})
        if response.status_code in (401, 403):
            raise StudioAuthError(
                f"Label Studio at {self.url} refused the personal access token "
                f"({response.status_code}: {_detail(response)}). It may be expired or revoked, "
                "or personal access tokens may be disabled in the organization; create a new one "
                "under Account & Settings > Personal Access Token."
            )
        self._raise_for(response, "POST", "/api/token/refresh/")
        access = response.json().get("access")
        if not isinstance(access, str):
            raise StudioRequestError("Label Studio's token refresh answer has no access token.")
        return access

    def _auth_error(self, response: requests.Response, method: str, path: str) -> StudioAuthError:
        detail = _detail(response)
        where = f"{method} {path} at {self.url}"
        if response.status_code == 403:
            hint = (
                "the key is valid but its user may not access this resource: check that the user "
                "belongs to the project's organization and has the needed role."
            )
        elif "legacy token" in detail.lower():
            hint = (
                "legacy tokens are disabled in this organization (the default for new Label "
                "Studio 1.23 organizations). Use a personal access token (Account & Settings > "
                "Personal Access Token), or have an admin enable legacy tokens (Organization > "
                "API Tokens Settings, or start Label Studio with --enable-legacy-api-token)."
            )
        elif self.personal:
            hint = "the personal access token was refused; it may have been revoked."
        else:
            hint = (
                "the key is wrong or was reset. Copy the token from Account & Settings in Label "
                "Studio; if it is a personal access token, pass the whole token."
            )
        return StudioAuthError(
            f"Label Studio refused the API key ({response.status_code} on {where}: {detail}); "
            f"{hint}"
        )

    # -- requests -------------------------------------------------------------------------------

    def _send(
        self, method: str, path: str, kwargs: dict[str, Any], timeout: float | None = None
    ) -> requests.Response:
        """One request with retries; authentication is the caller's business."""
        url = f"{self.url}{path}"
        read = timeout or self.timeout
        attempt = 0
        while True:
            try:
                response = self._http.request(method, url, timeout=(10, read), **kwargs)
            except requests.RequestException as exc:
                retry = (
                    method in _IDEMPOTENT
                    or isinstance(exc, requests.ConnectTimeout)
                    or (
                        isinstance(exc, requests.ConnectionError)
                        and "NewConnectionError" in repr(exc)
                    )
                )
                if not retry or attempt >= self.retries:
                    raise StudioUnreachableError(
                        f"could not reach Label Studio at {self.url} ({method} {path}): "
                        f"{type(exc).__name__}; check the URL and that Label Studio is running."
                    ) from exc
                reason = type(exc).__name__
            else:
                if response.status_code < 500 or method not in _IDEMPOTENT:
                    return response
                if attempt >= self.retries:
                    return response
                reason = f"HTTP {response.status_code}"
            delay = self.backoff * 2**attempt
            logger.warning("%s %s failed (%s); retrying in %.1f s", method, path, reason, delay)
            time.sleep(delay)
            attempt += 1

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        stream: bool = False,
        timeout: float | None = None,
    ) -> requests.Response:
        """Send an authenticated request; raise a :class:`~ls_cleanlab.errors.StudioError` on
        any answer that is not 2xx. ``timeout`` (seconds to wait for the answer) overrides the
        session's for this request."""
        kwargs: dict[str, Any] = {"params": params, "stream": stream}
        if json is not None:
            kwargs["json"] = json
        for attempt in range(2):
            kwargs["headers"] = {"Authorization": self._auth_header()}
            response = self._send(method, path, kwargs, timeout)
            if response.status_code == 401 and self.personal and attempt == 0:
                self._access = None  # the access token expired: refresh once
                continue
            break
        self._raise_for(response, method, path)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request` and decode the JSON answer (``None`` for an empty body)."""
        response = self.request(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise StudioRequestError(
                f"{method} {path} answered {response.status_code} with something that is not "
                f"JSON: {response.text[:200]!r}",
                response.status_code,
            ) from exc

    def _raise_for(self, response: requests.Response, method: str, path: str) -> None:
        status = response.status_code
        if status < 400:
            return
        if status in (401, 403):
            raise self._auth_error(response, method, path)
        if status >= 500:
            retried = f" (retried {self.retries} times)" if method in _IDEMPOTENT else ""
            raise StudioUnreachableError(
                f"Label Studio failed on {method} {path} with {status}{retried}: "
                f"{_detail(response)}"
            )
        raise StudioRequestError(
            f"Label Studio rejected {method} {path} ({status}): {_detail(response)}", status
        )
